#include "protocol.h"

#include <algorithm>

namespace tc::store::protocol {

void PackStr(Packer& p, std::string_view s) {
    p.pack_str(static_cast<uint32_t>(s.size()));
    p.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

void PackBin(Packer& p, util::ByteView b) {
    p.pack_bin(static_cast<uint32_t>(b.size()));
    p.pack_bin_body(reinterpret_cast<const char*>(b.data()), static_cast<uint32_t>(b.size()));
}

util::ByteView BinView(const msgpack::object& o) {
    return {reinterpret_cast<const uint8_t*>(o.via.bin.ptr), o.via.bin.size};
}

std::string_view StrView(const msgpack::object& o) {
    return {o.via.str.ptr, o.via.str.size};
}

msgpack::sbuffer EncodeRequest(uint64_t id, std::string_view method,
                               const std::function<void(Packer&)>& params) {
    msgpack::sbuffer buf;
    Packer p(buf);
    p.pack_array(4);
    p.pack_uint64(kVersion);
    p.pack_uint64(id);
    PackStr(p, method);
    params(p);
    return buf;
}

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
    // "METHOD: REASON: detail"
    size_t colon = error.find(": ");
    if (colon == std::string_view::npos) return util::Errc::kInvalid;
    std::string_view rest = error.substr(colon + 2);
    std::string_view reason = rest.substr(0, rest.find(": "));
    if (reason == kNotFound) return util::Errc::kNotFound;
    if (reason == kGapBeyondRetention) return util::Errc::kConflict;
    return util::Errc::kInvalid;
}

}  // namespace tc::store::protocol
