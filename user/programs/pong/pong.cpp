// The server half of the IPC ping-pong pair: started as a service (shell: serve pong), it
// answers every call on its "service" endpoint with the number it was sent plus one, and names
// the caller by the PD id its badge carries (the controller mints each client's capability with a
// badge of its own).
#include "service/service_protocol.hpp"
#include "tessera/debug_print.hpp"
#include "tessera/startup.hpp"
#include "tessera/syscall.hpp"

using namespace tessera;

int main(int /*argc*/, char** /*argv*/, char** /*envp*/) {
    const abi::StartupCap* service = find_cap("service");
    if (service == nullptr) {
        println("pong: no \"service\" endpoint to serve (start me with: serve pong)");
        return 1;
    }
    println("pong: serving");
    abi::CapPtr ep(service->slot);
    sys::Message m;
    sys::recv(ep, m);
    uint64_t served = 0;
    for (;;) {
        ++served;
        if (m.mr[0] == 0) {
            println("pong: caller {} says hello after {} calls",
                    service::badge::service_client_id(m.badge_or_cap), served);
        }
        m.info = abi::MessageInfo(0, 0, 0, 2);
        m.mr[0] = m.mr[0] + 1;
        m.mr[1] = served;
        sys::reply_recv(ep, m);
    }
}
