// The client half of the IPC ping-pong pair: finds "pong" in its directory (the controller lists
// every running service there), calls it N times (argv[1], default 1000) across address spaces
// and CSpaces, checks every answer, and exits with the number of wrong answers (3 when the
// service ends under it: its calls are refused then).
#include "abi/error.hpp"
#include "base/string_view.hpp"
#include "tessera/debug_print.hpp"
#include "tessera/startup.hpp"
#include "tessera/syscall.hpp"

using namespace tessera;

int main(int argc, char** argv, char** /*envp*/) {
    uint64_t rounds = 1000;
    if (argc >= 2 && !parse_u64(StringView(argv[1]), rounds)) {
        println("ping: usage: ping [ROUNDS]");
        return 1;
    }
    const abi::StartupCap* pong = find_cap("pong");
    if (pong == nullptr) {
        println("ping: no \"pong\" service in my directory (start it first: serve pong)");
        return 2;
    }
    abi::CapPtr ep(pong->slot);
    uint64_t wrong = 0;
    uint64_t served = 0;
    for (uint64_t i = 0; i < rounds; ++i) {
        sys::Message m;
        m.info = abi::MessageInfo(0, 0, 0, 1);
        m.mr[0] = i;
        sys::call(ep, m);
        if (m.info.label() != 0) {  // the call itself was refused: the service has ended
            println("ping: pong is gone (call {} refused: {})", i + 1,
                    abi::error_name(static_cast<abi::Error>(m.info.label())));
            return 3;
        }
        wrong += m.mr[0] != i + 1 ? 1 : 0;
        served = m.mr[1];
    }
    println("ping: {} round trips to pong, {} wrong answers (pong has served {} calls)", rounds,
            wrong, served);
    return static_cast<int>(wrong);
}
