# ASan+UBSan build (CDNS_SANITIZE=ON): scripts/test.sh runs every test again in it, so an
# out-of-bounds read on malformed input fails the run instead of passing silently.
if(CDNS_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined -fno-sanitize-recover=all)
  add_compile_definitions(CDNS_SANITIZE=1)
endif()
