#include "protocol.h"

#include <algorithm>

namespace tc::store::protocol {

void PackEvent(Packer& p, const Event& e) {
    p.pack_array(3);
    p.pack_uint64(e.seq);
    p.pack_uint64(e.height);
    PackBin(p, e.hash);
}

msgpack::sbuffer EncodeEvent(const Event& e) {
    msgpack::sbuffer buf;
    Packer p(buf);
    PackEvent(p, e);
    return buf;
}

util::Result<Event> DecodeEvent(const msgpack::object& o) {
    if (o.type != msgpack::type::ARRAY || o.via.array.size != 3 ||
        o.via.array.ptr[0].type != msgpack::type::POSITIVE_INTEGER ||
        o.via.array.ptr[1].type != msgpack::type::POSITIVE_INTEGER ||
        o.via.array.ptr[2].type != msgpack::type::BIN || o.via.array.ptr[2].via.bin.size != 32) {
        return util::MakeError(util::Errc::kInvalid, "event: not [seq, height, hash (bin 32)]");
    }
    Event e;
    e.seq = o.via.array.ptr[0].via.u64;
    e.height = o.via.array.ptr[1].via.u64;
    util::ByteView hash = BinView(o.via.array.ptr[2]);
    std::copy(hash.begin(), hash.end(), e.hash.begin());
    return e;
}

util::Errc ErrcOfReply(std::string_view error) {
    if (net::ReasonOf(error) == kGapBeyondRetention) return util::Errc::kConflict;
    return net::ErrcOfReply(error);
}

}  // namespace tc::store::protocol
