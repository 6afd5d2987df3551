# THREATD_SANITIZE="address;undefined" or "thread" instruments every target.
if(THREATD_SANITIZE)
  list(JOIN THREATD_SANITIZE "," _threatd_san)
  add_compile_options(-fsanitize=${_threatd_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_threatd_san})
endif()
# GCC 12 warns that atomic_thread_fence is unsupported under TSan (Asio uses
# it); the warning is about TSan's coverage, not our code.
if("thread" IN_LIST THREATD_SANITIZE)
  add_compile_options(-Wno-tsan)
endif()
