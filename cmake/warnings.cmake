# Compiler warnings for our own targets. DPDK and other system headers come in as SYSTEM
# includes, so their warnings are not ours; ours are errors under CI.
add_compile_options(-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align
                    -Wimplicit-fallthrough -Wno-missing-field-initializers)
if(CDNS_WERROR)
  add_compile_options(-Werror)
endif()
# The hot paths are written for the machine they run on; -march=native is the DPDK default too.
# CDNS_MARCH picks another target: a package for other machines, or x86-64-v3 (AVX2, no AVX-512)
# for valgrind, which cannot run AVX-512 code.
set(CDNS_MARCH "native" CACHE STRING "the -march the code is compiled for")
add_compile_options(-march=${CDNS_MARCH})
