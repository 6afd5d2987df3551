# THREATD_SANITIZE="address;undefined" or "thread" instruments every target.
if(THREATD_SANITIZE)
  list(JOIN THREATD_SANITIZE "," _threatd_san)
  add_compile_options(-fsanitize=${_threatd_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_threatd_san})
endif()
