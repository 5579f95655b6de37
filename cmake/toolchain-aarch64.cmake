# Cross toolchain for Tessera's AArch64 targets: clang + ld.lld, freestanding, no host libraries.
# C++ library headers come from Debian's libstdc++-12-dev-arm64-cross (header-only use: only the
# freestanding parts are included, and nothing from libstdc++ is linked). User programs also get
# a C library: Debian's picolibc-aarch64-linux-gnu, with the cross libgcc for the helpers its
# printf needs (user/CMakeLists.txt); the kernel sees neither.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(TESSERA_TRIPLE aarch64-none-elf)
set(CMAKE_C_COMPILER clang)
set(CMAKE_CXX_COMPILER clang++)
set(CMAKE_ASM_COMPILER clang)
set(CMAKE_C_COMPILER_TARGET ${TESSERA_TRIPLE})
set(CMAKE_CXX_COMPILER_TARGET ${TESSERA_TRIPLE})
set(CMAKE_ASM_COMPILER_TARGET ${TESSERA_TRIPLE})
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(TESSERA_CXX_SYSROOT /usr/aarch64-linux-gnu/include)
# -ffreestanding is added per target (see the top-level CMakeLists.txt): programs run as PDs
# are compiled hosted, so `main` is the C entry point it is everywhere else.
set(TESSERA_PICOLIBC_DIR /usr/lib/picolibc/aarch64-linux-gnu)
set(TESSERA_LIBGCC /usr/lib/gcc-cross/aarch64-linux-gnu/12/libgcc.a)
set(CMAKE_CXX_FLAGS_INIT
    "-fno-exceptions -fno-rtti -fno-threadsafe-statics -fno-use-cxa-atexit \
-nostdinc++ -isystem ${TESSERA_CXX_SYSROOT}/c++/12 \
-isystem ${TESSERA_CXX_SYSROOT}/c++/12/aarch64-linux-gnu -idirafter ${TESSERA_CXX_SYSROOT}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wno-unused-command-line-argument -fuse-ld=lld -nostdlib -static -Wl,--build-id=none")

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
