// Formatted output to the kernel console for user programs, using the same formatter as the
// kernel. Each print collects its text on the stack and hands it to the kernel in DebugWrite
// pieces of up to 48 characters, so lines of concurrently running programs do not mix.
#pragma once

#include "abi/syscall.hpp"
#include "base/format.hpp"

namespace tessera {

// Unbuffered: every piece of text becomes its own DebugWrite.
FormatSink debug_sink();

// Collects text and writes it out in full DebugWrite pieces (and whatever is left on flush).
class ConsoleBuffer {
  public:
    ConsoleBuffer() = default;
    ConsoleBuffer(const ConsoleBuffer&) = delete;
    ConsoleBuffer& operator=(const ConsoleBuffer&) = delete;
    ~ConsoleBuffer() { flush(); }

    FormatSink sink() { return FormatSink{&append, this}; }
    void flush();

  private:
    static void append(void* context, const char* chars, size_t count);
    char text_[abi::kDebugWriteMax] = {};  // one DebugWrite piece
    size_t used_ = 0;
};

template <typename... Args>
void print(StringView fmt, const Args&... args) {
    ConsoleBuffer buffer;
    format_to(buffer.sink(), fmt, args...);
}

template <typename... Args>
void println(StringView fmt, const Args&... args) {
    ConsoleBuffer buffer;
    format_to(buffer.sink(), fmt, args...);
    format_to(buffer.sink(), "\n");
}

}  // namespace tessera

// A program's entry point (tessera_start) and tessera_exit are declared in tessera/runtime.h.
