# Compiler warnings for our own targets. DPDK and other system headers come in as SYSTEM
# includes, so their warnings are not ours; ours are errors under CI.
add_compile_options(-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align
                    -Wimplicit-fallthrough -Wno-missing-field-initializers)
if(CDNS_WERROR)
  add_compile_options(-Werror)
endif()
# The hot paths are written for the machine they run on; -march=native is the DPDK default too.
add_compile_options(-march=native)
