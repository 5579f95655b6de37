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
#include "tessera/service_call.hpp"
#include "tessera/startup.hpp"
#include "tessera/syscall.hpp"

using namespace tessera;
using service::StatusCode;
using service::StoreLabel;

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
    const uint64_t archive_base = region->address + offset;
    sys::Message m;
    sys::recv(service_ep, m);
    for (;;) {
        switch (static_cast<StoreLabel>(m.info.label())) {
            case StoreLabel::kList: {
                auto list = service::request<service::StoreList>(m);
                if (!list) {
                    service::refuse(m, list.error());
                    break;
                }
                uint64_t seen = 0;
                bool found = false;
                archive.value().for_each_entry([&](const cpio::Entry& e) {
                    if (!found && e.is_regular_file() && seen++ == list.value().index) {
                        found = true;
                        service::reply(m, service::StoreListReply{e.data.size(), e.name});
                    }
                });
                if (!found) {
                    service::refuse(m, StatusCode::kEndOfList);
                }
                break;
            }
            case StoreLabel::kFind: {
                auto find = service::request<service::StoreFind>(m);
                if (!find) {
                    service::refuse(m, find.error());
                    break;
                }
                auto entry = archive.value().find(find.value().name.view());
                if (!entry || !entry->is_regular_file()) {
                    service::refuse(m, StatusCode::kNoSuchImage);
                    break;
                }
                const auto start = reinterpret_cast<uint64_t>(entry->data.data());
                service::reply(m,
                               service::StoreFindReply{start - archive_base, entry->data.size()});
                break;
            }
            case StoreLabel::kFrame: {
                auto frame = service::request<service::StoreFrame>(m);
                if (!frame) {
                    service::refuse(m, frame.error());
                    break;
                }
                if (frame.value().index >= frames->count) {
                    service::refuse(m, StatusCode::kEndOfList);
                    break;
                }
                ipc_buffer()->caps_or_badges[0] = frames->slot + frame.value().index;
                service::reply(m, service::StoreFrameReply{frames->count, offset, size}, 1);
                break;
            }
            default:
                service::refuse(m, StatusCode::kBadRequest, "unknown request");
                break;
        }
        sys::reply_recv(service_ep, m);
    }
}
