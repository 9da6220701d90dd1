# Tests of the manual page, the installation and examples/ (included from
# install.cmake when TWS_TESTS is on; enable_testing() and PYTHON3 come
# from the top-level file).
set(TWS_MAN_TESTS ${CMAKE_CURRENT_LIST_DIR}/tests)
set(TWS_MANPAGE ${CMAKE_CURRENT_LIST_DIR}/tlswrapper-smtp.1)

# groff -man -ww -z prints nothing.
add_test(NAME man.groff COMMAND ${TWS_MAN_TESTS}/groff.sh ${TWS_MANPAGE})

# The options the binary's own parser accepts are those the page documents.
add_test(NAME man.options
  COMMAND ${PYTHON3} ${TWS_MAN_TESTS}/options.py $<TARGET_FILE:tlswrapper-smtp> ${TWS_MANPAGE})

# Limits, defaults and reply texts of src/constants.h appear in the page.
add_test(NAME man.constants
  COMMAND ${PYTHON3} ${TWS_MAN_TESTS}/constants.py ${CMAKE_SOURCE_DIR}/src/constants.h ${TWS_MANPAGE})

# The per-client variables: src/client_policy.cc's table, ENVIRONMENT, -h.
add_test(NAME man.environment
  COMMAND ${PYTHON3} ${TWS_MAN_TESTS}/environment.py ${CMAKE_SOURCE_DIR}/src/client_policy.cc
          $<TARGET_FILE:tlswrapper-smtp> ${TWS_MANPAGE})

# The ENDINGS section is the Session's table of endings (src/session.cc), one
# row per value of the enum Ending (src/session.h).
add_test(NAME man.endings
  COMMAND ${PYTHON3} ${TWS_MAN_TESTS}/endings.py ${CMAKE_SOURCE_DIR}/src/session.cc
          ${CMAKE_SOURCE_DIR}/src/constants.h ${TWS_MANPAGE} ${CMAKE_SOURCE_DIR}/src/session.h)

# cmake --install into a DESTDIR: binary, nojail link, page, jail directory.
add_test(NAME install.destdir
  COMMAND ${TWS_MAN_TESTS}/install_destdir.sh ${CMAKE_COMMAND} ${CMAKE_BINARY_DIR} ${TWS_MANPAGE})
set_tests_properties(install.destdir PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 120)

# examples/ run for real on loopback with tcpserver, tlswrapper, exim4 -bs
# and swaks (root only, like the e2e tests; they share exim's set-up).
foreach(example tcpserver systemd inetd)
  add_test(NAME examples.${example}
    COMMAND ${TWS_MAN_TESTS}/${example}.sh $<TARGET_FILE:tlswrapper-smtp>)
  set_tests_properties(examples.${example} PROPERTIES TIMEOUT 180 RESOURCE_LOCK exim)
endforeach()
