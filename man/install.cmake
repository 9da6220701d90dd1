# Installation extras, included by the top-level CMakeLists.txt: the manual
# page, and the default jail directory the binary chroots into. (The binary
# and the tlswrapper-smtp-nojail link are installed by the top-level file.)
# Tests of all this, and of examples/, are in tests.cmake.

install(FILES ${CMAKE_CURRENT_LIST_DIR}/tlswrapper-smtp.1 DESTINATION share/man/man1)

# The jail directory is compiled into the program (src/constants.h,
# kDefaultJailDir); it is an absolute path, not under the prefix. It is
# read from there so the two cannot drift apart.
file(STRINGS ${CMAKE_SOURCE_DIR}/src/constants.h TWS_JAIL_DIR_LINE REGEX "kDefaultJailDir *=")
string(REGEX REPLACE ".*kDefaultJailDir *= *\"([^\"]+)\".*" "\\1" TWS_JAIL_DIR "${TWS_JAIL_DIR_LINE}")
if(NOT TWS_JAIL_DIR MATCHES "^/")
  message(FATAL_ERROR "cannot read kDefaultJailDir from src/constants.h (got '${TWS_JAIL_DIR}')")
endif()
install(CODE "set(TWS_JAIL_DIR \"${TWS_JAIL_DIR}\")")
install(SCRIPT ${CMAKE_CURRENT_LIST_DIR}/jail_dir.cmake)

if(TWS_TESTS)
  include(${CMAKE_CURRENT_LIST_DIR}/tests.cmake)
endif()
