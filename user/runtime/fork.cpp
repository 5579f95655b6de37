// fork() (tessera/fork.hpp): one call on the parent endpoint, answered twice.
#include "tessera/fork.hpp"

#include "tessera/startup.hpp"

namespace tessera {

Result<service::ForkReply, service::Refusal> fork(const service::Fork& request) {
    return service::call(abi::CapPtr(startup_record()->parent_endpoint), request);
}

}  // namespace tessera
