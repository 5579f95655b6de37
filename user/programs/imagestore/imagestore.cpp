// The image store: owns the boot archive's frames (read-only) and serves the images in it. Its
// creator maps the archive into it (region "archive"), grants the frame capabilities
// ("archive-frames") and the endpoint it serves ("service"); argv[1] and argv[2] are the
// archive's offset in its first frame and its size. Clients list images, find one by name,
// and fetch the frames one by one to map the archive read-only themselves (the controller).
#include "abi/ipc_buffer.hpp"
#include "base/string_view.hpp"
#include "cpio/cpio_reader.hpp"
#include "tessera/debug_print.hpp"
#include "tessera/invocation.hpp"
#include "tessera/service_protocol.hpp"
#include "tessera/startup.hpp"
#include "tessera/syscall.hpp"

using namespace tessera;
using service::StatusCode;
using service::StoreLabel;

namespace {

void reply_status(sys::Message& m, StatusCode status) {
    m.info = abi::MessageInfo(static_cast<uint64_t>(status), 0, 0, 0);
}

}  // namespace

int main(int argc, char** argv, char** /*envp*/) {
    const abi::StartupRegion* region = find_region("archive");
    const abi::StartupCap* frames = find_cap("archive-frames");
    const abi::StartupCap* endpoint = find_cap("service");
    uint64_t offset = 0;
    uint64_t size = 0;
    if (region == nullptr || frames == nullptr || endpoint == nullptr || argc < 3 ||
        !parse_u64(StringView(argv[1]), offset) || !parse_u64(StringView(argv[2]), size) ||
        offset + size > region->size) {
        println("imagestore: no archive, frames or service endpoint given; exiting");
        return 1;
    }
    auto archive = cpio::Archive::parse(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(region->address + offset), size));
    if (!archive) {
        println("imagestore: the archive is not a valid cpio archive: {}",
                cpio::to_string(archive.error()));
        return 2;
    }
    unsigned images = 0;
    archive.value().for_each_entry([&](const cpio::Entry& e) { images += e.is_regular_file(); });
    println("imagestore: serving {} images ({} bytes in {} frames)", images, size, frames->count);

    abi::CapPtr service_ep(endpoint->slot);
    sys::Message m;
    sys::recv(service_ep, m);
    for (;;) {
        char text[service::kMaxText + 1];
        switch (static_cast<StoreLabel>(m.info.label())) {
            case StoreLabel::kList: {
                uint64_t index = m.mr[0];
                uint64_t seen = 0;
                bool found = false;
                archive.value().for_each_entry([&](const cpio::Entry& e) {
                    if (!found && e.is_regular_file() && seen++ == index) {
                        found = true;
                        m.mr[0] = e.data.size();
                        unsigned length = service::put_text(m, e.name);
                        m.info = abi::MessageInfo(0, 0, 0, length);
                    }
                });
                if (!found) {
                    reply_status(m, StatusCode::kNotFound);
                }
                break;
            }
            case StoreLabel::kFind: {
                StringView name = service::get_text(m, text);
                auto entry = archive.value().find(name);
                if (!entry || !entry->is_regular_file()) {
                    reply_status(m, StatusCode::kNotFound);
                    break;
                }
                auto start = reinterpret_cast<uint64_t>(entry->data.data());
                m.mr[0] = start - (region->address + offset);
                m.mr[1] = entry->data.size();
                m.info = abi::MessageInfo(0, 0, 0, 2);
                break;
            }
            case StoreLabel::kFrame: {
                uint64_t index = m.mr[0];
                if (index >= frames->count) {
                    reply_status(m, StatusCode::kNotFound);
                    break;
                }
                ipc_buffer()->caps_or_badges[0] = frames->slot + index;
                m.mr[0] = frames->count;
                m.mr[1] = offset;
                m.mr[2] = size;
                m.info = abi::MessageInfo(0, 0, 1, 3);
                break;
            }
            default:
                reply_status(m, StatusCode::kBadRequest);
                break;
        }
        sys::reply_recv(service_ep, m);
    }
}
