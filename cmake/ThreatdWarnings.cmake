# Warning flags applied to every threatd target (never to third-party code).
set(THREATD_WARNING_FLAGS
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough
  -Wno-restrict  # GCC 12 false positive on "literal" + std::string at -O3 (GCC bug 105651)
  -Wno-missing-field-initializers)
if(THREATD_WERROR)
  list(APPEND THREATD_WARNING_FLAGS -Werror)
endif()
# Not -Wnull-dereference: at -O3 it fires inside Boost.Asio's inlined
# scheduler code, which we cannot change.
