// Formatted output to the kernel console for user programs, using the same formatter as the
// kernel, through the console capability (a root task's at abi::kSlotConsole, a PD's at
// abi::kPdSlotConsole if its creator gave it one; without it output is dropped). Each print
// collects its text on the stack and hands it to the kernel in ConsoleWrite pieces of up to
// 256 characters, so lines of concurrently running programs do not mix.
#pragma once

#include "abi/capability_pointer.hpp"
#include "abi/invocation.hpp"
#include "base/format.hpp"

namespace tessera {

// The console and debug capabilities this program uses (the PD start-up sets a PD's).
void set_console_capability(abi::CapPtr console);
abi::CapPtr console_capability();
void set_debug_capability(abi::CapPtr debug);
abi::CapPtr debug_capability();

// Characters one console piece holds (a whole line of most output).
constexpr size_t kConsolePiece = 256;

// Unbuffered: every piece of text becomes its own ConsoleWrite.
FormatSink debug_sink();

// Collects text and writes it out in full ConsoleWrite pieces (and whatever is left on
// flush).
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
    char text_[kConsolePiece] = {};  // one ConsoleWrite piece
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
