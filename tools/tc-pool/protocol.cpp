#include "protocol.h"

#include <algorithm>

namespace tc::pool::protocol {

msgpack::sbuffer EncodeEvent(const TxEvent& e) {
    msgpack::sbuffer buf;
    net::Packer p(buf);
    p.pack_array(4);
    p.pack_uint64(e.seq);
    net::PackStr(p, e.event);
    net::PackBin(p, e.txid);
    net::PackStr(p, e.reason);
    return buf;
}

util::Result<TxEvent> DecodeEvent(const msgpack::object& o) {
    using Type = msgpack::type::object_type;
    if (o.type != Type::ARRAY || o.via.array.size != 4 ||
        o.via.array.ptr[0].type != Type::POSITIVE_INTEGER || o.via.array.ptr[1].type != Type::STR ||
        o.via.array.ptr[2].type != Type::BIN || o.via.array.ptr[2].via.bin.size != 32 ||
        o.via.array.ptr[3].type != Type::STR) {
        return util::MakeError(util::Errc::kInvalid,
                               "event: not [seq, event, txid (bin 32), reason]");
    }
    TxEvent e;
    e.seq = o.via.array.ptr[0].via.u64;
    e.event = std::string(net::StrView(o.via.array.ptr[1]));
    util::ByteView txid = net::BinView(o.via.array.ptr[2]);
    std::copy(txid.begin(), txid.end(), e.txid.begin());
    e.reason = std::string(net::StrView(o.via.array.ptr[3]));
    return e;
}

}  // namespace tc::pool::protocol
