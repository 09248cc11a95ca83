# Install and package rules: `cmake --install` lays out the three binaries,
# man pages, examples, README, systemd units and their /etc/caviar config;
# `cpack -G DEB` (run in the build folder) turns the same layout into
# caviar_<version>_amd64.deb. Build with -DCAVIAR_PORTABLE=ON for a package
# that runs on any x86-64 (the default is -march=native).
include(GNUInstallDirs)
# `cpack` and `make install` install what is built instead of building every
# target first (tests, benchmarks): build the binaries, then package.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(CMAKE_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
set(_pkg ${PROJECT_SOURCE_DIR}/packaging)
set(_doc ${CMAKE_INSTALL_DATADIR}/doc/caviar)

install(TARGETS caviar-coordinator caviar-worker caviar RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# Man pages, changelog: gzip -9n (reproducible) at build time, as Debian wants.
find_program(CAVIAR_GZIP gzip REQUIRED)
set(_gz ${PROJECT_BINARY_DIR}/packaging)
set(_gz_outputs)
foreach(src docs/man/caviar.1 docs/man/caviar-worker.1 docs/man/caviar-coordinator.8
            packaging/debian/changelog)
  get_filename_component(name ${src} NAME)
  add_custom_command(OUTPUT ${_gz}/${name}.gz
    COMMAND ${CMAKE_COMMAND} -E make_directory ${_gz}
    COMMAND ${CAVIAR_GZIP} -9nc ${PROJECT_SOURCE_DIR}/${src} > ${_gz}/${name}.gz
    DEPENDS ${PROJECT_SOURCE_DIR}/${src} VERBATIM)
  list(APPEND _gz_outputs ${_gz}/${name}.gz)
endforeach()
add_custom_target(caviar_packaging_files ALL DEPENDS ${_gz_outputs})
install(FILES ${_gz}/caviar.1.gz ${_gz}/caviar-worker.1.gz
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${_gz}/caviar-coordinator.8.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES ${_gz}/changelog.gz ${_pkg}/debian/copyright ${PROJECT_SOURCE_DIR}/README.md
        DESTINATION ${_doc})
install(FILES ${PROJECT_SOURCE_DIR}/examples/quadratic.yaml
              ${PROJECT_SOURCE_DIR}/examples/fashion_mnist.yaml
        DESTINATION ${_doc}/examples)
install(PROGRAMS ${PROJECT_SOURCE_DIR}/examples/quadratic.py DESTINATION ${_doc}/examples)

# systemd units (installed, not enabled) and their configuration. Debian 12
# keeps units in /lib/systemd/system; config is in /etc whatever the prefix.
set(CAVIAR_SYSTEMD_UNIT_DIR /lib/systemd/system CACHE PATH "Where the systemd units go")
install(FILES ${_pkg}/systemd/caviar-coordinator.service ${_pkg}/systemd/caviar-worker@.service
        DESTINATION ${CAVIAR_SYSTEMD_UNIT_DIR})
install(FILES ${_pkg}/etc/coordinator.conf ${_pkg}/etc/worker.conf DESTINATION /etc/caviar)

# The .deb.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME caviar)
set(CPACK_PACKAGE_VENDOR "caviar maintainers")
set(CPACK_PACKAGE_CONTACT "caviar maintainers <maintainers@users.noreply.h-seed-31111851.example>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${_pkg}/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "networked hyperparameter tuning service
A coordinator keeps studies and trials in one SQLite file and hands out
sampled configurations over gRPC to stateless workers on any number of
machines. Workers train batch-normalized networks with a built-in trainer
or run your own training command, report metrics every step, and the
coordinator stops bad trials early (median, ASHA, divergence pruners) and
refines the search from coarse to fine (random, quasi-random, grid, TPE).
.
This package holds caviar-coordinator, caviar-worker, the caviar command
line, and systemd units for both services (installed, not enabled).")
include(CPack)
