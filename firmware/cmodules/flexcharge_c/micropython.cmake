# FlexCharge C user module (CMake-based ports: esp32, rp2).
# Build with: make USER_C_MODULES=<repo>/firmware/cmodules/micropython.cmake
add_library(usermod_flexcharge_c INTERFACE)

target_sources(usermod_flexcharge_c INTERFACE
    ${CMAKE_CURRENT_LIST_DIR}/modflexcharge_c.c
    ${CMAKE_CURRENT_LIST_DIR}/fc_core.c
)

target_include_directories(usermod_flexcharge_c INTERFACE
    ${CMAKE_CURRENT_LIST_DIR}
)

target_link_libraries(usermod INTERFACE usermod_flexcharge_c)
