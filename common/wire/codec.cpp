// Canonical msgpack codec (see codec.h for the contract and man/timecoin-protocol.7 for the
// format).
//
// Encoding goes through msgpack-c's packer, which always picks the shortest form of an
// integer and of a str, bin or array header.
//
// Decoding runs in three steps:
//   1. msgpack::parse with a visitor (TreeBuilder) that records the items actually present
//      as a flat pre-order list of Nodes. msgpack::unpack is not used because it allocates
//      count * sizeof(msgpack::object) as soon as it reads an array header; here an array
//      claiming 2^32-1 entries is a single node, and the parse stops right after it because
//      no field allows that many. Depth, array length and the number of nodes are capped
//      per type, so memory stays a small multiple of the input, and for a block of at most
//      one transaction: each block.txs entry is converted as soon as it is complete and its
//      nodes are dropped. A PBFT message holds at most one block, found from its kind.
//   2. A Reader converts the nodes field by field, naming the path in every error. A node
//      that is missing because the parse stopped early reports why (truncated, an invalid
//      byte, nesting too deep), at the path where it was expected.
//   3. The decoded value is re-encoded in compare mode against the input. The parse loses
//      the width of integers and headers, so this is where 1 as uint16 or a 2-entry array
//      as array16 is caught; the first field whose bytes differ is named.
// Every msgpack-c and allocation exception is caught at the Decode* boundary.
#include "wire/codec.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <msgpack.hpp>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

namespace tc::wire {
namespace {

using util::Errc;
using util::Error;
using util::MakeError;
using util::Result;
using util::Status;

// Encoded size bounds of the small types, checked before parsing. Each is above the largest
// canonical encoding (header 137 bytes, vote 128, certificate 73,786 with 1024 signatures).
constexpr size_t kMaxEncodedHeaderBytes = 256;
constexpr size_t kMaxEncodedVoteBytes = 256;
constexpr size_t kMaxEncodedCertificateBytes = 128u << 10;

// A field path kept on the stack while encoding or decoding ("tx.inputs[2].vout"). It is
// turned into a string only for an error message, so the happy path never allocates for it.
// A Path refers to its parent: it must not outlive it.
class Path {
  public:
    explicit Path(const char* root) : m_name(root) {}
    Path Field(const char* name) const { return Path(this, name, 0); }
    Path Index(size_t index) const { return Path(this, nullptr, index); }

    std::string str() const {
        std::string out = m_parent ? m_parent->str() : std::string();
        if (m_name) {
            if (m_parent) out += '.';
            out += m_name;
        } else {
            out += '[' + std::to_string(m_index) + ']';
        }
        return out;
    }

  private:
    Path(const Path* parent, const char* name, size_t index)
        : m_parent(parent), m_name(name), m_index(index) {}

    const Path* m_parent = nullptr;
    const char* m_name = nullptr;  // nullptr: an index into the parent array
    size_t m_index = 0;
};

Error Bad(const Path& path, const std::string& why) {
    return MakeError(Errc::kInvalid, path.str() + ": " + why);
}

// ---------------------------------------------------------------------------------------
// Encoding

// Writes the encoding through msgpack::packer, either appending it to a buffer or (compare
// mode) checking it against expected bytes and remembering the first field that differs.
class Writer {
  public:
    explicit Writer(util::Bytes& out) : m_out(&out) {}
    explicit Writer(util::ByteView expected) : m_expected(expected) {}

    void Uint(const Path& path, uint64_t v) {
        m_path = &path;
        Packer().pack_uint64(v);
    }
    void Array(const Path& path, size_t n) {
        m_path = &path;
        Packer().pack_array(static_cast<uint32_t>(n));
    }
    void Nil(const Path& path) {
        m_path = &path;
        Packer().pack_nil();
    }
    void Bin(const Path& path, util::ByteView b) {
        m_path = &path;
        auto size = static_cast<uint32_t>(b.size());
        Packer().pack_bin(size).pack_bin_body(reinterpret_cast<const char*>(b.data()), size);
    }
    void Str(const Path& path, std::string_view s) {
        m_path = &path;
        auto size = static_cast<uint32_t>(s.size());
        Packer().pack_str(size).pack_str_body(s.data(), size);
    }

    // The stream interface msgpack::packer writes to.
    void write(const char* data, size_t size) {
        if (size == 0) return;
        if (m_out) {
            m_out->insert(m_out->end(), data, data + size);
            return;
        }
        if (m_mismatch) return;
        if (size > m_expected.size() - m_pos ||
            std::memcmp(data, m_expected.data() + m_pos, size) != 0) {
            m_mismatch = m_path->str();
        }
        m_pos += size;
    }

    // Compare mode, after writing: the field at the first differing byte, if any.
    std::optional<std::string> Mismatch(const Path& root) const {
        if (m_mismatch) return m_mismatch;
        if (m_pos != m_expected.size()) return root.str();
        return std::nullopt;
    }

  private:
    msgpack::packer<Writer> Packer() { return msgpack::packer<Writer>(*this); }

    util::Bytes* m_out = nullptr;
    util::ByteView m_expected;
    size_t m_pos = 0;
    const Path* m_path = nullptr;  // of the value being written, valid during one call
    std::optional<std::string> m_mismatch;
};

void PutOutPoint(Writer& w, const Path& path, const OutPoint& in) {
    w.Array(path, 2);
    w.Bin(path.Field("txid"), in.txid);
    w.Uint(path.Field("vout"), in.vout);
}

void PutTxOut(Writer& w, const Path& path, const TxOut& out) {
    w.Array(path, 2);
    w.Uint(path.Field("amount"), out.amount);
    w.Bin(path.Field("address"), out.address);
}

void PutPayload(Writer& w, const Path& path, const TxPayload& payload) {
    if (const auto* reg = std::get_if<RegisterPayload>(&payload)) {
        w.Array(path, 3);
        w.Bin(path.Field("masternode_key"), reg->masternode_key);
        w.Str(path.Field("endpoint"), reg->endpoint);
        w.Bin(path.Field("payout"), reg->payout);
    } else if (const auto* retire = std::get_if<RetirePayload>(&payload)) {
        w.Array(path, 1);
        w.Bin(path.Field("masternode_key"), retire->masternode_key);
    } else {
        w.Nil(path);
    }
}

void PutWitnesses(Writer& w, const Path& path, const std::vector<std::optional<Witness>>& all) {
    // All-absent is the unsigned form: an empty list, so that it has one encoding.
    bool any = std::any_of(all.begin(), all.end(), [](const auto& x) { return x.has_value(); });
    w.Array(path, any ? all.size() : 0);
    if (!any) return;
    for (size_t i = 0; i < all.size(); ++i) {
        Path entry = path.Index(i);
        if (!all[i]) {
            w.Nil(entry);
            continue;
        }
        w.Array(entry, 2);
        w.Bin(entry.Field("public_key"), all[i]->public_key);
        w.Bin(entry.Field("signature"), all[i]->signature);
    }
}

void PutTransaction(Writer& w, const Path& path, const Transaction& tx, bool with_witnesses) {
    w.Array(path, with_witnesses ? 7 : 6);
    w.Uint(path.Field("version"), tx.version);
    w.Uint(path.Field("kind"), static_cast<uint8_t>(tx.kind));
    Path inputs = path.Field("inputs");
    w.Array(inputs, tx.inputs.size());
    for (size_t i = 0; i < tx.inputs.size(); ++i) PutOutPoint(w, inputs.Index(i), tx.inputs[i]);
    Path outputs = path.Field("outputs");
    w.Array(outputs, tx.outputs.size());
    for (size_t i = 0; i < tx.outputs.size(); ++i) PutTxOut(w, outputs.Index(i), tx.outputs[i]);
    w.Uint(path.Field("expiry"), tx.expiry);
    PutPayload(w, path.Field("payload"), tx.payload);
    if (with_witnesses) PutWitnesses(w, path.Field("witnesses"), tx.witnesses);
}

void PutHeader(Writer& w, const Path& path, const BlockHeader& h) {
    w.Array(path, 8);
    w.Uint(path.Field("version"), h.version);
    w.Uint(path.Field("height"), h.height);
    w.Bin(path.Field("prev_hash"), h.prev_hash);
    w.Uint(path.Field("view"), h.view);
    w.Uint(path.Field("timestamp_ms"), h.timestamp_ms);
    w.Uint(path.Field("proposer"), h.proposer);
    w.Bin(path.Field("tx_root"), h.tx_root);
    w.Bin(path.Field("mnset_hash"), h.mnset_hash);
}

void PutBlock(Writer& w, const Path& path, const Block& block) {
    w.Array(path, 3);
    w.Uint(path.Field("version"), kBlockVersion);
    PutHeader(w, path.Field("header"), block.header);
    Path txs = path.Field("txs");
    w.Array(txs, block.txs.size());
    for (size_t i = 0; i < block.txs.size(); ++i) {
        PutTransaction(w, txs.Index(i), block.txs[i], true);
    }
}

// [[index, signature], ...]: the signatures of a commit or prepared certificate.
void PutSigs(Writer& w, const Path& path, const std::vector<CertificateSig>& sigs) {
    w.Array(path, sigs.size());
    for (size_t i = 0; i < sigs.size(); ++i) {
        Path entry = path.Index(i);
        w.Array(entry, 2);
        w.Uint(entry.Field("index"), sigs[i].index);
        w.Bin(entry.Field("signature"), sigs[i].signature);
    }
}

void PutCertificate(Writer& w, const Path& path, const CommitCertificate& cert) {
    w.Array(path, 5);
    w.Uint(path.Field("version"), cert.version);
    w.Uint(path.Field("height"), cert.height);
    w.Uint(path.Field("view"), cert.view);
    w.Bin(path.Field("block_hash"), cert.block_hash);
    PutSigs(w, path.Field("sigs"), cert.sigs);
}

void PutVote(Writer& w, const Path& path, const Vote& vote) {
    w.Array(path, 7);
    w.Uint(path.Field("version"), vote.version);
    w.Uint(path.Field("phase"), static_cast<uint8_t>(vote.phase));
    w.Uint(path.Field("height"), vote.height);
    w.Uint(path.Field("view"), vote.view);
    w.Bin(path.Field("digest"), vote.digest);
    w.Uint(path.Field("replica"), vote.replica);
    w.Bin(path.Field("signature"), vote.signature);
}

// The PBFT messages (pbft.h): an envelope [version, kind, body]. The body's path is named
// after its kind ("pbft.view_change.prepared"), so errors say which message they are about.
enum class PbftKind : uint8_t {
    kPrePrepare = 0,
    kVote = 1,
    kViewChange = 2,
    kNewView = 3,
    kDecided = 4
};

const char* PbftBodyName(PbftKind kind) {
    switch (kind) {
        case PbftKind::kPrePrepare:
            return "pre_prepare";
        case PbftKind::kVote:
            return "vote";
        case PbftKind::kViewChange:
            return "view_change";
        case PbftKind::kNewView:
            return "new_view";
        case PbftKind::kDecided:
            return "decided";
    }
    return "body";
}

// The variant's alternatives are in kind order.
template <PbftKind kind, typename T>
constexpr bool kAlternativeIs =
    std::is_same_v<std::variant_alternative_t<static_cast<size_t>(kind), PbftMessage>, T>;
static_assert(kAlternativeIs<PbftKind::kPrePrepare, PrePrepare> &&
              kAlternativeIs<PbftKind::kVote, Vote> &&
              kAlternativeIs<PbftKind::kViewChange, ViewChange> &&
              kAlternativeIs<PbftKind::kNewView, NewView> &&
              kAlternativeIs<PbftKind::kDecided, Decided> && std::variant_size_v<PbftMessage> == 5);

PbftKind KindOf(const PbftMessage& msg) {
    return static_cast<PbftKind>(msg.index());
}

void PutPrepared(Writer& w, const Path& path, const std::optional<PreparedCert>& prepared) {
    if (!prepared) {
        w.Nil(path);
        return;
    }
    w.Array(path, 3);
    w.Uint(path.Field("view"), prepared->view);
    w.Bin(path.Field("digest"), prepared->digest);
    PutSigs(w, path.Field("sigs"), prepared->sigs);
}

void PutPrePrepare(Writer& w, const Path& path, const PrePrepare& pp) {
    w.Array(path, 5);
    w.Uint(path.Field("height"), pp.height);
    w.Uint(path.Field("view"), pp.view);
    w.Uint(path.Field("replica"), pp.replica);
    PutBlock(w, path.Field("block"), pp.block);
    w.Bin(path.Field("signature"), pp.signature);
}

// with_block false: the copy a NEW-VIEW carries, whose block is nil whatever vc holds.
void PutViewChange(Writer& w, const Path& path, const ViewChange& vc, bool with_block) {
    w.Array(path, 6);
    w.Uint(path.Field("height"), vc.height);
    w.Uint(path.Field("new_view"), vc.new_view);
    w.Uint(path.Field("replica"), vc.replica);
    PutPrepared(w, path.Field("prepared"), vc.prepared);
    Path block = path.Field("block");
    if (with_block && vc.block) {
        PutBlock(w, block, *vc.block);
    } else {
        w.Nil(block);
    }
    w.Bin(path.Field("signature"), vc.signature);
}

// The NEW-VIEW fields before its signature, shared by the body and the digest preimage.
void PutNewViewFields(Writer& w, const Path& path, const NewView& nv) {
    w.Uint(path.Field("height"), nv.height);
    w.Uint(path.Field("view"), nv.view);
    w.Uint(path.Field("replica"), nv.replica);
    Path vcs = path.Field("view_changes");
    w.Array(vcs, nv.view_changes.size());
    for (size_t i = 0; i < nv.view_changes.size(); ++i) {
        PutViewChange(w, vcs.Index(i), nv.view_changes[i], false);
    }
    PutPrePrepare(w, path.Field("proposal"), nv.proposal);
}

void PutNewView(Writer& w, const Path& path, const NewView& nv) {
    w.Array(path, 6);
    PutNewViewFields(w, path, nv);
    w.Bin(path.Field("signature"), nv.signature);
}

void PutDecided(Writer& w, const Path& path, const Decided& d) {
    w.Array(path, 2);
    PutBlock(w, path.Field("block"), d.block);
    PutCertificate(w, path.Field("cert"), d.cert);
}

void PutPbftMessage(Writer& w, const Path& path, const PbftMessage& msg) {
    PbftKind kind = KindOf(msg);
    w.Array(path, 3);
    w.Uint(path.Field("version"), kPbftVersion);
    w.Uint(path.Field("kind"), static_cast<uint8_t>(kind));
    Path body = path.Field(PbftBodyName(kind));
    std::visit(
        [&](const auto& m) {
            using T = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<T, PrePrepare>) {
                PutPrePrepare(w, body, m);
            } else if constexpr (std::is_same_v<T, Vote>) {
                PutVote(w, body, m);
            } else if constexpr (std::is_same_v<T, ViewChange>) {
                PutViewChange(w, body, m, true);
            } else if constexpr (std::is_same_v<T, NewView>) {
                PutNewView(w, body, m);
            } else {
                static_assert(std::is_same_v<T, Decided>);
                PutDecided(w, body, m);
            }
        },
        msg);
}

// ---------------------------------------------------------------------------------------
// Parsing: msgpack bytes to a flat list of nodes

enum class Type : uint8_t { kNil, kBool, kUint, kInt, kFloat, kStr, kBin, kExt, kArray, kMap };

const char* TypeName(Type type) {
    switch (type) {
        case Type::kNil:
            return "nil";
        case Type::kBool:
            return "bool";
        case Type::kUint:
            return "uint";
        case Type::kInt:
            return "int";
        case Type::kFloat:
            return "float";
        case Type::kStr:
            return "str";
        case Type::kBin:
            return "bin";
        case Type::kExt:
            return "ext";
        case Type::kArray:
            return "array";
        case Type::kMap:
            return "map";
    }
    return "unknown";
}

// One msgpack item. Children of an array follow it in pre-order.
struct Node {
    uint64_t value = 0;  // kUint: the value; kInt: its int64 bits; kStr, kBin: input offset
    uint32_t size = 0;   // kArray, kMap: the entry count claimed; kStr, kBin, kExt: bytes
    Type type = Type::kNil;
};

struct ParseLimits {
    size_t max_depth;      // arrays nested deeper stop the parse (the type's own depth)
    uint32_t max_entries;  // an array claiming more stops the parse (the type's largest bound)
    size_t max_nodes;      // nodes held at once
};

// The msgpack-c visitor (the concept of msgpack/v2/null_visitor.hpp). It stops the parse at
// the first item that no field could accept (too deep, too many entries, a map), after
// recording that item, so that the Reader reports it at its path.
class TreeBuilder : public msgpack::null_visitor {
  public:
    // Called with each complete entry of the streamed array (the transactions of a block);
    // the entry's nodes are dropped afterwards. An error stops the parse.
    using EntryHook = std::function<Status(uint32_t index, std::span<const Node> nodes)>;

    TreeBuilder(util::ByteView input, const ParseLimits& limits)
        : m_input(input), m_limits(limits) {
        m_open.reserve(limits.max_depth);
        // Each node takes at least one input byte; beyond this, growth is amortised.
        m_nodes.reserve(std::min({input.size(), limits.max_nodes, size_t{4096}}));
    }

    // Streams the entries of the array reached from the root by the field indices `fields`:
    // {2} is field 2 of the root array (block.txs), {2, 3, 2} field 2 of field 3 of field 2.
    void StreamEntries(std::vector<uint32_t> fields, EntryHook hook) {
        m_stream_fields = std::move(fields);
        m_hook = std::move(hook);
    }

    // Parses one msgpack object from the start of the input.
    void Parse() {
        size_t off = 0;
        m_complete = msgpack::parse(reinterpret_cast<const char*>(m_input.data()), m_input.size(),
                                    off, *this);
        if (m_complete) {
            m_end = off;
        } else if (m_stop.empty() && !m_entry_error) {
            m_stop = "invalid msgpack";
        }
    }

    bool complete() const { return m_complete; }
    size_t end() const { return m_end; }  // after the object, when complete()
    const std::vector<Node>& nodes() const { return m_nodes; }
    // Why the parse stopped early, as the error for a field that is missing because of it.
    Error StopError(const Path& path) const {
        if (m_entry_error) return *m_entry_error;
        return Bad(path, m_stop.empty() ? "missing" : m_stop);
    }

    bool visit_nil() { return Push(Type::kNil, 0, 0); }
    bool visit_boolean(bool v) { return Push(Type::kBool, v, 0); }
    bool visit_positive_integer(uint64_t v) { return Push(Type::kUint, v, 0); }
    bool visit_negative_integer(int64_t v) { return Push(Type::kInt, static_cast<uint64_t>(v), 0); }
    bool visit_float32(float) { return Push(Type::kFloat, 0, 0); }
    bool visit_float64(double) { return Push(Type::kFloat, 0, 0); }
    bool visit_str(const char* v, uint32_t size) {
        return Push(Type::kStr, OffsetOf(v, size), size);
    }
    bool visit_bin(const char* v, uint32_t size) {
        return Push(Type::kBin, OffsetOf(v, size), size);
    }
    bool visit_ext(const char*, uint32_t size) { return Push(Type::kExt, 0, size); }

    bool start_array(uint32_t entries) {
        if (!Push(Type::kArray, 0, entries)) return false;
        if (entries > m_limits.max_entries) {
            return Stop("an array of " + std::to_string(entries) + " entries");
        }
        if (m_open.size() >= m_limits.max_depth) {
            return Stop("arrays nested more than " + std::to_string(m_limits.max_depth) + " deep");
        }
        m_open.push_back(0);
        return true;
    }
    bool start_array_item() {
        if (InStreamedList()) m_entry_start = m_nodes.size();
        return true;
    }
    bool end_array_item() {
        if (InStreamedList()) {
            std::span<const Node> entry(m_nodes.data() + m_entry_start,
                                        m_nodes.size() - m_entry_start);
            Status status = m_hook(m_open.back(), entry);
            m_nodes.resize(m_entry_start);
            if (!status) {
                m_entry_error = std::move(status).error();
                return false;
            }
        }
        ++m_open.back();
        return true;
    }
    bool end_array() {
        m_open.pop_back();
        return true;
    }
    bool start_map(uint32_t entries) {
        Push(Type::kMap, 0, entries);
        return Stop("a map");
    }
    void parse_error(size_t /*parsed_offset*/, size_t error_offset) {
        std::string byte;
        if (error_offset < m_input.size()) {
            static constexpr char kDigits[] = "0123456789abcdef";
            uint8_t b = m_input[error_offset];
            byte = std::string(" 0x") + kDigits[b >> 4] + kDigits[b & 0x0f];
        }
        Stop("invalid msgpack byte" + byte + " at offset " + std::to_string(error_offset));
    }
    void insufficient_bytes(size_t /*parsed_offset*/, size_t /*error_offset*/) {
        Stop(m_input.empty()
                 ? "empty input"
                 : "truncated: the input ends after " + std::to_string(m_input.size()) + " bytes");
    }

  private:
    bool Push(Type type, uint64_t value, uint32_t size) {
        if (m_nodes.size() >= m_limits.max_nodes) {
            return Stop("more than " + std::to_string(m_limits.max_nodes) + " msgpack items");
        }
        m_nodes.push_back(Node{value, size, type});
        return true;
    }
    bool Stop(std::string why) {
        if (m_stop.empty()) m_stop = std::move(why);
        return false;
    }
    // msgpack-c hands str and bin bodies as pointers into the input (a zero-length one may
    // come with a stale or null pointer).
    uint64_t OffsetOf(const char* v, uint32_t size) const {
        return size == 0
                   ? 0
                   : static_cast<uint64_t>(reinterpret_cast<const uint8_t*>(v) - m_input.data());
    }
    // Whether the innermost open array is the streamed list. m_open[k] is the index of the
    // entry being parsed in the k-th open array, so the path of open arrays is a prefix.
    bool InStreamedList() const {
        return m_hook && m_open.size() == m_stream_fields.size() + 1 &&
               std::equal(m_stream_fields.begin(), m_stream_fields.end(), m_open.begin());
    }

    util::ByteView m_input;
    ParseLimits m_limits;
    std::vector<Node> m_nodes;
    std::vector<uint32_t> m_open;  // per open array: entries completed so far
    std::vector<uint32_t> m_stream_fields;
    EntryHook m_hook;
    size_t m_entry_start = 0;
    bool m_complete = false;
    size_t m_end = 0;
    std::string m_stop;
    std::optional<Error> m_entry_error;
};

// ---------------------------------------------------------------------------------------
// Conversion: nodes to values, field by field

class Reader {
  public:
    Reader(util::ByteView input, std::span<const Node> nodes, const TreeBuilder& tree)
        : m_input(input), m_nodes(nodes), m_tree(tree) {}

    // The next node, or why the parse did not get to it.
    Result<const Node*> Next(const Path& path) {
        if (m_pos >= m_nodes.size()) return m_tree.StopError(path);
        return &m_nodes[m_pos++];
    }
    // The next node without consuming it, or nullptr if the parse did not get to it.
    const Node* Peek() const { return m_pos < m_nodes.size() ? &m_nodes[m_pos] : nullptr; }
    size_t Remaining() const { return m_nodes.size() - m_pos; }
    bool AtEnd() const { return m_pos == m_nodes.size(); }
    util::ByteView BytesOf(const Node& node) const {
        return m_input.subspan(static_cast<size_t>(node.value), node.size);
    }
    const TreeBuilder& tree() const { return m_tree; }

  private:
    util::ByteView m_input;
    std::span<const Node> m_nodes;
    const TreeBuilder& m_tree;
    size_t m_pos = 0;
};

struct UintType {
    const char* name;
    uint64_t max;
};
constexpr UintType kU8{"uint8", UINT8_MAX};
constexpr UintType kU32{"uint32", UINT32_MAX};
constexpr UintType kU64{"uint64", UINT64_MAX};

Result<uint64_t> ReadUint(Reader& r, const Path& path, UintType type) {
    TC_TRY(node, r.Next(path));
    if (node->type == Type::kUint && node->value <= type.max) return node->value;
    std::string expected = std::string("expected ") + type.name + ", got ";
    if (node->type == Type::kInt) {
        auto v = static_cast<int64_t>(node->value);
        if (v < 0) return Bad(path, expected + std::to_string(v));
        // msgpack-c reports int8..int64 encodings as "negative" whatever their sign.
        return Bad(path, "non-canonical encoding (" + std::to_string(v) + " as a signed int)");
    }
    if (node->type != Type::kUint) return Bad(path, expected + TypeName(node->type));
    return Bad(path, expected + std::to_string(node->value));
}

Status ReadVersion(Reader& r, const Path& path, uint8_t known) {
    TC_TRY(version, ReadUint(r, path, kU8));
    if (version != known) return Bad(path, "unknown version " + std::to_string(version));
    return {};
}

// An array of exactly `fields` entries: a record in fixed field order.
Status ReadRecord(Reader& r, const Path& path, uint32_t fields) {
    TC_TRY(node, r.Next(path));
    if (node->type == Type::kArray && node->size == fields) return {};
    std::string expected = "expected an array of " + std::to_string(fields) + " fields, got ";
    if (node->type != Type::kArray) return Bad(path, expected + TypeName(node->type));
    return Bad(path, expected + std::to_string(node->size));
}

// An array of up to `max` entries; returns the count.
Result<uint32_t> ReadList(Reader& r, const Path& path, size_t max) {
    TC_TRY(node, r.Next(path));
    if (node->type != Type::kArray) {
        return Bad(path, std::string("expected an array, got ") + TypeName(node->type));
    }
    if (node->size > max) {
        return Bad(path, std::to_string(node->size) + " entries exceed the limit of " +
                             std::to_string(max));
    }
    return node->size;
}

template <size_t N>
Result<util::ByteArray<N>> ReadBytes(Reader& r, const Path& path) {
    TC_TRY(node, r.Next(path));
    if (node->type != Type::kBin) {
        return Bad(path, std::string("expected bin, got ") + TypeName(node->type));
    }
    if (node->size != N) {
        return Bad(path,
                   "expected " + std::to_string(N) + " bytes, got " + std::to_string(node->size));
    }
    util::ByteArray<N> out;
    auto bytes = r.BytesOf(*node);
    std::copy(bytes.begin(), bytes.end(), out.begin());
    return out;
}

Result<std::string> ReadEndpoint(Reader& r, const Path& path) {
    TC_TRY(node, r.Next(path));
    if (node->type != Type::kStr) {
        return Bad(path, std::string("expected str, got ") + TypeName(node->type));
    }
    if (node->size > kMaxEndpointBytes) {
        return Bad(path, std::to_string(node->size) + " bytes exceed the limit of " +
                             std::to_string(kMaxEndpointBytes));
    }
    auto bytes = r.BytesOf(*node);
    for (size_t i = 0; i < bytes.size(); ++i) {
        if (bytes[i] < 0x20 || bytes[i] > 0x7e) {
            return Bad(path, "byte " + std::to_string(i) + " is not printable ASCII");
        }
    }
    return std::string(bytes.begin(), bytes.end());
}

Result<OutPoint> ReadOutPoint(Reader& r, const Path& path) {
    TC_CHECK(ReadRecord(r, path, 2));
    OutPoint out;
    TC_TRY(txid, ReadBytes<32>(r, path.Field("txid")));
    TC_TRY(vout, ReadUint(r, path.Field("vout"), kU32));
    out.txid = txid;
    out.vout = static_cast<uint32_t>(vout);
    return out;
}

Result<TxOut> ReadTxOut(Reader& r, const Path& path) {
    TC_CHECK(ReadRecord(r, path, 2));
    TxOut out;
    TC_TRY(amount, ReadUint(r, path.Field("amount"), kU64));
    TC_TRY(address, ReadBytes<20>(r, path.Field("address")));
    out.amount = amount;
    out.address = address;
    return out;
}

Result<TxPayload> ReadPayload(Reader& r, const Path& path, TxKind kind) {
    const Node* next = r.Peek();
    bool is_nil = next && next->type == Type::kNil;
    switch (kind) {
        case TxKind::kTransfer: {
            TC_TRY(node, r.Next(path));
            if (node->type != Type::kNil) {
                return Bad(path, std::string("a transfer has no payload: expected nil, got ") +
                                     TypeName(node->type));
            }
            return TxPayload{};
        }
        case TxKind::kRegister: {
            if (is_nil) return Bad(path, "a register needs its masternode payload, got nil");
            TC_CHECK(ReadRecord(r, path, 3));
            RegisterPayload reg;
            TC_TRY(key, ReadBytes<32>(r, path.Field("masternode_key")));
            TC_TRY(endpoint, ReadEndpoint(r, path.Field("endpoint")));
            TC_TRY(payout, ReadBytes<20>(r, path.Field("payout")));
            reg.masternode_key = key;
            reg.endpoint = std::move(endpoint);
            reg.payout = payout;
            return TxPayload{std::move(reg)};
        }
        case TxKind::kRetire: {
            if (is_nil) return Bad(path, "a retire needs its masternode payload, got nil");
            TC_CHECK(ReadRecord(r, path, 1));
            TC_TRY(key, ReadBytes<32>(r, path.Field("masternode_key")));
            return TxPayload{RetirePayload{key}};
        }
    }
    return Bad(path, "unknown kind");
}

Result<std::vector<std::optional<Witness>>> ReadWitnesses(Reader& r, const Path& path,
                                                          size_t slots) {
    TC_TRY(count, ReadList(r, path, kMaxTxInputs));
    if (count != 0 && count != slots) {
        return Bad(path, std::to_string(count) + " entries, expected 0 (unsigned) or " +
                             std::to_string(slots) + " (one per witness slot)");
    }
    std::vector<std::optional<Witness>> out;
    out.reserve(std::min<size_t>(count, r.Remaining()));
    bool any = false;
    for (uint32_t i = 0; i < count; ++i) {
        Path entry = path.Index(i);
        const Node* next = r.Peek();
        if (next && next->type == Type::kNil) {
            (void)r.Next(entry);
            out.emplace_back();
            continue;
        }
        TC_CHECK(ReadRecord(r, entry, 2));
        TC_TRY(key, ReadBytes<32>(r, entry.Field("public_key")));
        TC_TRY(sig, ReadBytes<64>(r, entry.Field("signature")));
        out.emplace_back(Witness{key, sig});
        any = true;
    }
    if (count != 0 && !any) {
        return Bad(path, "every entry is nil; an unsigned transaction has an empty list");
    }
    return out;
}

Result<Transaction> ReadTransaction(Reader& r, const Path& path) {
    TC_CHECK(ReadRecord(r, path, 7));
    Transaction tx;
    TC_CHECK(ReadVersion(r, path.Field("version"), kTxVersion));
    Path kind_path = path.Field("kind");
    TC_TRY(kind, ReadUint(r, kind_path, kU8));
    if (kind > static_cast<uint8_t>(TxKind::kRetire)) {
        return Bad(kind_path, "unknown kind " + std::to_string(kind));
    }
    tx.kind = static_cast<TxKind>(kind);

    Path inputs = path.Field("inputs");
    TC_TRY(n_inputs, ReadList(r, inputs, kMaxTxInputs));
    tx.inputs.reserve(std::min<size_t>(n_inputs, r.Remaining()));
    for (uint32_t i = 0; i < n_inputs; ++i) {
        TC_TRY(in, ReadOutPoint(r, inputs.Index(i)));
        tx.inputs.push_back(in);
    }
    Path outputs = path.Field("outputs");
    TC_TRY(n_outputs, ReadList(r, outputs, kMaxTxOutputs));
    tx.outputs.reserve(std::min<size_t>(n_outputs, r.Remaining()));
    for (uint32_t i = 0; i < n_outputs; ++i) {
        TC_TRY(out, ReadTxOut(r, outputs.Index(i)));
        tx.outputs.push_back(out);
    }
    TC_TRY(expiry, ReadUint(r, path.Field("expiry"), kU64));
    tx.expiry = expiry;
    TC_TRY(payload, ReadPayload(r, path.Field("payload"), tx.kind));
    tx.payload = std::move(payload);
    TC_TRY(witnesses, ReadWitnesses(r, path.Field("witnesses"), tx.WitnessSlots()));
    tx.witnesses = std::move(witnesses);
    return tx;
}

Result<BlockHeader> ReadHeader(Reader& r, const Path& path) {
    TC_CHECK(ReadRecord(r, path, 8));
    BlockHeader h;
    TC_CHECK(ReadVersion(r, path.Field("version"), kBlockVersion));
    TC_TRY(height, ReadUint(r, path.Field("height"), kU64));
    TC_TRY(prev_hash, ReadBytes<32>(r, path.Field("prev_hash")));
    TC_TRY(view, ReadUint(r, path.Field("view"), kU64));
    TC_TRY(timestamp_ms, ReadUint(r, path.Field("timestamp_ms"), kU64));
    TC_TRY(proposer, ReadUint(r, path.Field("proposer"), kU32));
    TC_TRY(tx_root, ReadBytes<32>(r, path.Field("tx_root")));
    TC_TRY(mnset_hash, ReadBytes<32>(r, path.Field("mnset_hash")));
    h.height = height;
    h.prev_hash = prev_hash;
    h.view = view;
    h.timestamp_ms = timestamp_ms;
    h.proposer = static_cast<uint32_t>(proposer);
    h.tx_root = tx_root;
    h.mnset_hash = mnset_hash;
    return h;
}

// The block.txs entries were converted while parsing (see DecodeBlock); this checks the
// fields around them and reports an entry the parse did not finish.
Result<Block> ReadBlock(Reader& r, const Path& path, std::vector<Transaction>& streamed) {
    TC_CHECK(ReadRecord(r, path, 3));
    Block block;
    TC_CHECK(ReadVersion(r, path.Field("version"), kBlockVersion));
    TC_TRY(header, ReadHeader(r, path.Field("header")));
    block.header = header;
    Path txs = path.Field("txs");
    TC_TRY(n_txs, ReadList(r, txs, kMaxBlockTxs));
    if (streamed.size() < n_txs) {
        // The parse stopped inside entry streamed.size(): converting what there is of it
        // names the field where it stopped.
        auto partial = ReadTransaction(r, txs.Index(streamed.size()));
        if (!partial) return std::move(partial).error();
        return r.tree().StopError(txs.Index(streamed.size() + 1));
    }
    block.txs = std::move(streamed);
    return block;
}

// At most kMaxCertificateSigs [index, signature] entries, indices strictly increasing.
Result<std::vector<CertificateSig>> ReadSigs(Reader& r, const Path& path) {
    TC_TRY(count, ReadList(r, path, kMaxCertificateSigs));
    std::vector<CertificateSig> out;
    out.reserve(std::min<size_t>(count, r.Remaining()));
    for (uint32_t i = 0; i < count; ++i) {
        Path entry = path.Index(i);
        TC_CHECK(ReadRecord(r, entry, 2));
        Path index_path = entry.Field("index");
        TC_TRY(index, ReadUint(r, index_path, kU32));
        if (i > 0 && index <= out.back().index) {
            return Bad(index_path,
                       "not above the previous index " + std::to_string(out.back().index));
        }
        TC_TRY(sig, ReadBytes<64>(r, entry.Field("signature")));
        out.push_back(CertificateSig{static_cast<uint32_t>(index), sig});
    }
    return out;
}

Result<CommitCertificate> ReadCertificate(Reader& r, const Path& path) {
    TC_CHECK(ReadRecord(r, path, 5));
    CommitCertificate cert;
    TC_CHECK(ReadVersion(r, path.Field("version"), kCertificateVersion));
    TC_TRY(height, ReadUint(r, path.Field("height"), kU64));
    TC_TRY(view, ReadUint(r, path.Field("view"), kU64));
    TC_TRY(block_hash, ReadBytes<32>(r, path.Field("block_hash")));
    cert.height = height;
    cert.view = view;
    cert.block_hash = block_hash;
    TC_TRY(sigs, ReadSigs(r, path.Field("sigs")));
    cert.sigs = std::move(sigs);
    return cert;
}

Result<Vote> ReadVote(Reader& r, const Path& path) {
    TC_CHECK(ReadRecord(r, path, 7));
    Vote vote;
    TC_CHECK(ReadVersion(r, path.Field("version"), kVoteVersion));
    Path phase_path = path.Field("phase");
    TC_TRY(phase, ReadUint(r, phase_path, kU8));
    if (phase != static_cast<uint8_t>(VotePhase::kPrepare) &&
        phase != static_cast<uint8_t>(VotePhase::kCommit)) {
        return Bad(phase_path, "unknown phase " + std::to_string(phase) + " (1 prepare, 2 commit)");
    }
    TC_TRY(height, ReadUint(r, path.Field("height"), kU64));
    TC_TRY(view, ReadUint(r, path.Field("view"), kU64));
    TC_TRY(digest, ReadBytes<32>(r, path.Field("digest")));
    TC_TRY(replica, ReadUint(r, path.Field("replica"), kU32));
    TC_TRY(signature, ReadBytes<64>(r, path.Field("signature")));
    vote.phase = static_cast<VotePhase>(phase);
    vote.height = height;
    vote.view = view;
    vote.digest = digest;
    vote.replica = static_cast<uint32_t>(replica);
    vote.signature = signature;
    return vote;
}

// Consumes the nil of an absent optional field, if that is what comes next.
bool TakeNil(Reader& r, const Path& path) {
    const Node* next = r.Peek();
    if (!next || next->type != Type::kNil) return false;
    (void)r.Next(path);
    return true;
}

Result<std::optional<PreparedCert>> ReadPrepared(Reader& r, const Path& path) {
    if (TakeNil(r, path)) return std::optional<PreparedCert>();
    TC_CHECK(ReadRecord(r, path, 3));
    PreparedCert cert;
    TC_TRY(view, ReadUint(r, path.Field("view"), kU64));
    TC_TRY(digest, ReadBytes<32>(r, path.Field("digest")));
    TC_TRY(sigs, ReadSigs(r, path.Field("sigs")));
    cert.view = view;
    cert.digest = digest;
    cert.sigs = std::move(sigs);
    return std::optional<PreparedCert>(std::move(cert));
}

// `streamed`: the block's transactions, converted while parsing (see DecodePbftMessage).
Result<PrePrepare> ReadPrePrepare(Reader& r, const Path& path, std::vector<Transaction>& streamed) {
    TC_CHECK(ReadRecord(r, path, 5));
    PrePrepare pp;
    TC_TRY(height, ReadUint(r, path.Field("height"), kU64));
    TC_TRY(view, ReadUint(r, path.Field("view"), kU64));
    TC_TRY(replica, ReadUint(r, path.Field("replica"), kU32));
    TC_TRY(block, ReadBlock(r, path.Field("block"), streamed));
    TC_TRY(signature, ReadBytes<64>(r, path.Field("signature")));
    pp.height = height;
    pp.view = view;
    pp.replica = static_cast<uint32_t>(replica);
    pp.block = std::move(block);
    pp.signature = signature;
    return pp;
}

// streamed == nullptr: a copy inside a NEW-VIEW, which must not carry a block.
Result<ViewChange> ReadViewChange(Reader& r, const Path& path, std::vector<Transaction>* streamed) {
    TC_CHECK(ReadRecord(r, path, 6));
    ViewChange vc;
    TC_TRY(height, ReadUint(r, path.Field("height"), kU64));
    TC_TRY(new_view, ReadUint(r, path.Field("new_view"), kU64));
    TC_TRY(replica, ReadUint(r, path.Field("replica"), kU32));
    TC_TRY(prepared, ReadPrepared(r, path.Field("prepared")));
    vc.height = height;
    vc.new_view = new_view;
    vc.replica = static_cast<uint32_t>(replica);
    vc.prepared = std::move(prepared);
    Path block_path = path.Field("block");
    if (!TakeNil(r, block_path)) {
        if (!r.Peek()) return r.tree().StopError(block_path);
        if (!streamed) {
            return Bad(block_path,
                       "a view change inside a NEW-VIEW carries no block: expected nil");
        }
        if (!vc.prepared) {
            return Bad(block_path, "a block without a prepared certificate: expected nil");
        }
        TC_TRY(block, ReadBlock(r, block_path, *streamed));
        vc.block = std::move(block);
    }
    TC_TRY(signature, ReadBytes<64>(r, path.Field("signature")));
    vc.signature = signature;
    return vc;
}

Result<NewView> ReadNewView(Reader& r, const Path& path, std::vector<Transaction>& streamed) {
    TC_CHECK(ReadRecord(r, path, 6));
    NewView nv;
    TC_TRY(height, ReadUint(r, path.Field("height"), kU64));
    TC_TRY(view, ReadUint(r, path.Field("view"), kU64));
    TC_TRY(replica, ReadUint(r, path.Field("replica"), kU32));
    nv.height = height;
    nv.view = view;
    nv.replica = static_cast<uint32_t>(replica);
    Path vcs = path.Field("view_changes");
    TC_TRY(count, ReadList(r, vcs, kMaxNewViewChanges));
    nv.view_changes.reserve(std::min<size_t>(count, r.Remaining()));
    for (uint32_t i = 0; i < count; ++i) {
        TC_TRY(vc, ReadViewChange(r, vcs.Index(i), nullptr));
        nv.view_changes.push_back(std::move(vc));
    }
    TC_TRY(proposal, ReadPrePrepare(r, path.Field("proposal"), streamed));
    nv.proposal = std::move(proposal);
    TC_TRY(signature, ReadBytes<64>(r, path.Field("signature")));
    nv.signature = signature;
    return nv;
}

Result<Decided> ReadDecided(Reader& r, const Path& path, std::vector<Transaction>& streamed) {
    TC_CHECK(ReadRecord(r, path, 2));
    Decided d;
    TC_TRY(block, ReadBlock(r, path.Field("block"), streamed));
    TC_TRY(cert, ReadCertificate(r, path.Field("cert")));
    d.block = std::move(block);
    d.cert = std::move(cert);
    return d;
}

Result<PbftMessage> ReadPbftMessage(Reader& r, const Path& path,
                                    std::vector<Transaction>& streamed) {
    TC_CHECK(ReadRecord(r, path, 3));
    TC_CHECK(ReadVersion(r, path.Field("version"), kPbftVersion));
    Path kind_path = path.Field("kind");
    TC_TRY(kind_value, ReadUint(r, kind_path, kU8));
    if (kind_value > static_cast<uint8_t>(PbftKind::kDecided)) {
        return Bad(kind_path, "unknown kind " + std::to_string(kind_value) +
                                  " (0 pre-prepare, 1 vote, 2 view-change, 3 new-view, 4 decided)");
    }
    auto kind = static_cast<PbftKind>(kind_value);
    Path body = path.Field(PbftBodyName(kind));
    auto wrap = [](auto result) -> Result<PbftMessage> {
        if (!result) return std::move(result).error();
        return PbftMessage(std::move(result).value());
    };
    switch (kind) {
        case PbftKind::kPrePrepare:
            return wrap(ReadPrePrepare(r, body, streamed));
        case PbftKind::kVote:
            return wrap(ReadVote(r, body));
        case PbftKind::kViewChange:
            return wrap(ReadViewChange(r, body, &streamed));
        case PbftKind::kNewView:
            return wrap(ReadNewView(r, body, streamed));
        case PbftKind::kDecided:
            return wrap(ReadDecided(r, body, streamed));
    }
    return Bad(kind_path, "unknown kind");  // not reached
}

// ---------------------------------------------------------------------------------------
// The decode pipeline shared by every type

struct DecodeSpec {
    const char* root;  // the name errors start with
    size_t max_bytes;
    ParseLimits limits;
};

// Parses `bytes`, converts them with read(Reader&, const Path&) and checks that the value
// re-encodes (put(Writer&, const Path&, const T&)) to exactly the input. `prepare` may set
// up the TreeBuilder (block streaming).
template <typename T, typename Prepare, typename Read, typename Put>
Result<T> DecodeWith(util::ByteView bytes, const DecodeSpec& spec, Prepare prepare, Read read,
                     Put put) {
    try {
        Path root(spec.root);
        if (bytes.size() > spec.max_bytes) {
            return Bad(root, std::to_string(bytes.size()) + " bytes exceed the limit of " +
                                 std::to_string(spec.max_bytes));
        }
        TreeBuilder tree(bytes, spec.limits);
        prepare(tree);
        tree.Parse();
        if (tree.complete() && tree.end() != bytes.size()) {
            size_t extra = bytes.size() - tree.end();
            return Bad(root,
                       std::to_string(extra) + (extra == 1 ? " trailing byte" : " trailing bytes") +
                           " after the encoding ends at offset " + std::to_string(tree.end()));
        }
        Reader reader(bytes, tree.nodes(), tree);
        Result<T> value = read(reader, root);
        if (!value) return value;
        if (!tree.complete() || !reader.AtEnd()) return tree.StopError(root);  // not reached
        Writer check(bytes);
        put(check, root, *value);
        if (auto field = check.Mismatch(root)) {
            return MakeError(Errc::kInvalid, *field + ": non-canonical encoding");
        }
        return value;
    } catch (const std::bad_alloc&) {
        return MakeError(Errc::kInternal, "out of memory");
    } catch (const std::exception& e) {
        return MakeError(Errc::kInvalid, std::string(spec.root) + ": " + e.what());
    } catch (...) {
        return MakeError(Errc::kInternal, std::string(spec.root) + ": unexpected exception");
    }
}

constexpr auto kNoPrepare = [](TreeBuilder&) {};

// The entry hook that converts each streamed block.txs entry into `txs` as soon as it is
// complete. The references must outlive the parse.
TreeBuilder::EntryHook TxStreamer(util::ByteView bytes, const TreeBuilder& tree,
                                  const Path& txs_path, std::vector<Transaction>& txs) {
    return [bytes, &tree, &txs_path, &txs](uint32_t index, std::span<const Node> nodes) -> Status {
        Reader r(bytes, nodes, tree);
        TC_TRY(tx, ReadTransaction(r, txs_path.Index(index)));
        if (!r.AtEnd()) return Bad(txs_path.Index(index), "extra items");  // not reached
        txs.push_back(std::move(tx));
        return {};
    };
}

// The kind of a PBFT message, from the envelope's first three items, so that the real parse
// knows where the message's one block is and can stream its transactions. Nothing when the
// envelope does not start like one: the real parse then reports what is wrong with it.
std::optional<PbftKind> PeekPbftKind(util::ByteView bytes) noexcept {
    try {
        TreeBuilder peek(bytes, ParseLimits{1, UINT32_MAX, 3});
        peek.Parse();
        const auto& n = peek.nodes();
        if (n.size() < 3 || n[0].type != Type::kArray || n[2].type != Type::kUint ||
            n[2].value > static_cast<uint8_t>(PbftKind::kDecided)) {
            return std::nullopt;
        }
        return static_cast<PbftKind>(n[2].value);
    } catch (...) {
        return std::nullopt;
    }
}

// Field indices from the envelope to the block.txs array of each kind (none in a vote; the
// view changes inside a NEW-VIEW carry no block).
std::vector<uint32_t> PbftTxsFields(PbftKind kind) {
    switch (kind) {
        case PbftKind::kPrePrepare:
            return {2, 3, 2};  // body > block > txs
        case PbftKind::kVote:
            return {};
        case PbftKind::kViewChange:
            return {2, 4, 2};  // body > block > txs
        case PbftKind::kNewView:
            return {2, 4, 3, 2};  // body > proposal > block > txs
        case PbftKind::kDecided:
            return {2, 0, 2};  // body > block > txs
    }
    return {};
}

util::Bytes Finish(const Path& root, auto put, size_t reserve) {
    util::Bytes out;
    out.reserve(reserve);
    Writer w(out);
    put(w, root);
    return out;
}

size_t EstimateSize(const Transaction& tx) {
    return 64 + tx.inputs.size() * 38 + tx.outputs.size() * 32 + tx.witnesses.size() * 101 + 300;
}

size_t EstimateSize(const Block& block) {
    size_t size = kMaxEncodedHeaderBytes;
    for (const auto& tx : block.txs) size += EstimateSize(tx);
    return size;
}

size_t EstimateSize(const std::optional<PreparedCert>& prepared) {
    return prepared ? 64 + prepared->sigs.size() * 72 : 1;
}

constexpr size_t kPbftFieldsSize = 128;  // envelope, heights, views, replica, signature

size_t EstimateSize(const NewView& nv) {
    size_t size = 2 * kPbftFieldsSize + EstimateSize(nv.proposal.block);
    for (const auto& vc : nv.view_changes) size += kPbftFieldsSize + EstimateSize(vc.prepared);
    return size;
}

size_t EstimateSize(const PbftMessage& msg) {
    constexpr size_t kFields = kPbftFieldsSize;
    if (const auto* pp = std::get_if<PrePrepare>(&msg)) return kFields + EstimateSize(pp->block);
    if (std::holds_alternative<Vote>(msg)) return kFields + kMaxEncodedVoteBytes;
    if (const auto* vc = std::get_if<ViewChange>(&msg)) {
        return kFields + EstimateSize(vc->prepared) + (vc->block ? EstimateSize(*vc->block) : 1);
    }
    if (const auto* nv = std::get_if<NewView>(&msg)) return EstimateSize(*nv);
    const auto& d = std::get<Decided>(msg);
    return kFields + EstimateSize(d.block) + 64 + d.cert.sigs.size() * 72;
}

}  // namespace

util::Bytes Encode(const Transaction& tx) {
    return Finish(
        Path("tx"), [&](Writer& w, const Path& p) { PutTransaction(w, p, tx, true); },
        EstimateSize(tx));
}

util::Bytes EncodeUnsigned(const Transaction& tx) {
    return Finish(
        Path("tx"), [&](Writer& w, const Path& p) { PutTransaction(w, p, tx, false); },
        EstimateSize(tx));
}

util::Bytes Encode(const BlockHeader& header) {
    return Finish(
        Path("header"), [&](Writer& w, const Path& p) { PutHeader(w, p, header); },
        kMaxEncodedHeaderBytes);
}

util::Bytes Encode(const Block& block) {
    return Finish(
        Path("block"), [&](Writer& w, const Path& p) { PutBlock(w, p, block); },
        EstimateSize(block));
}

util::Bytes Encode(const CommitCertificate& cert) {
    return Finish(
        Path("cert"), [&](Writer& w, const Path& p) { PutCertificate(w, p, cert); },
        64 + cert.sigs.size() * 72);
}

util::Bytes Encode(const Vote& vote) {
    return Finish(
        Path("vote"), [&](Writer& w, const Path& p) { PutVote(w, p, vote); }, kMaxEncodedVoteBytes);
}

util::Bytes Encode(const PbftMessage& msg) {
    return Finish(
        Path("pbft"), [&](Writer& w, const Path& p) { PutPbftMessage(w, p, msg); },
        EstimateSize(msg));
}

util::Bytes EncodeUnsigned(const ViewChange& vc) {
    return Finish(
        Path("view_change"),
        [&](Writer& w, const Path& p) {
            w.Array(p, 5);
            w.Uint(p.Field("version"), kPbftVersion);
            w.Uint(p.Field("height"), vc.height);
            w.Uint(p.Field("new_view"), vc.new_view);
            w.Uint(p.Field("replica"), vc.replica);
            PutPrepared(w, p.Field("prepared"), vc.prepared);
        },
        64 + EstimateSize(vc.prepared));
}

util::Bytes EncodeUnsigned(const NewView& nv) {
    return Finish(
        Path("new_view"),
        [&](Writer& w, const Path& p) {
            w.Array(p, 6);
            w.Uint(p.Field("version"), kPbftVersion);
            PutNewViewFields(w, p, nv);
        },
        EstimateSize(nv));
}

util::Result<Transaction> DecodeTransaction(util::ByteView bytes) {
    // tx > inputs > [txid, vout]
    DecodeSpec spec{
        "tx",
        kMaxEncodedTxBytes,
        {3, static_cast<uint32_t>(std::max(kMaxTxInputs, kMaxTxOutputs)), kMaxEncodedTxBytes}};
    return DecodeWith<Transaction>(
        bytes, spec, kNoPrepare, ReadTransaction,
        [](Writer& w, const Path& p, const Transaction& tx) { PutTransaction(w, p, tx, true); });
}

util::Result<BlockHeader> DecodeBlockHeader(util::ByteView bytes) {
    DecodeSpec spec{"header", kMaxEncodedHeaderBytes, {1, 8, kMaxEncodedHeaderBytes}};
    return DecodeWith<BlockHeader>(bytes, spec, kNoPrepare, ReadHeader, PutHeader);
}

util::Result<Block> DecodeBlock(util::ByteView bytes) {
    // block > txs > tx > inputs > [txid, vout]. At most one transaction's nodes are held at
    // a time, plus the block's own few.
    DecodeSpec spec{"block", kMaxEncodedBlockBytes, {5, kMaxBlockTxs, kMaxEncodedTxBytes + 64}};
    std::vector<Transaction> txs;
    Path root(spec.root);
    Path txs_path = root.Field("txs");
    auto prepare = [&](TreeBuilder& tree) {
        tree.StreamEntries({2}, TxStreamer(bytes, tree, txs_path, txs));
    };
    auto read = [&](Reader& r, const Path& p) { return ReadBlock(r, p, txs); };
    return DecodeWith<Block>(bytes, spec, prepare, read, PutBlock);
}

util::Result<CommitCertificate> DecodeCertificate(util::ByteView bytes) {
    // cert > sigs > [index, signature]
    DecodeSpec spec{
        "cert", kMaxEncodedCertificateBytes, {3, kMaxCertificateSigs, kMaxEncodedCertificateBytes}};
    return DecodeWith<CommitCertificate>(bytes, spec, kNoPrepare, ReadCertificate, PutCertificate);
}

util::Result<Vote> DecodeVote(util::ByteView bytes) {
    DecodeSpec spec{"vote", kMaxEncodedVoteBytes, {1, 7, kMaxEncodedVoteBytes}};
    return DecodeWith<Vote>(bytes, spec, kNoPrepare, ReadVote, PutVote);
}

util::Result<PbftMessage> DecodePbftMessage(util::ByteView bytes) {
    // pbft > new_view > proposal > block > txs > tx > inputs > [txid, vout] is the deepest.
    //
    // Memory: each kind holds at most one block (the view changes inside a NEW-VIEW carry
    // none), whose transactions are streamed as in DecodeBlock, so at most one transaction's
    // nodes are held at a time. What is left is the rest of the message, whose nodes are
    // held until the end: for a NEW-VIEW, up to kMaxNewViewChanges view changes, each with a
    // prepared certificate of up to kMaxCertificateSigs signatures. A signature entry is 3
    // nodes in at least 68 bytes, so kMaxEncodedPbftBytes / 16 nodes cover every message
    // within the byte bound; with one transaction's worth that is at most 3.2 million nodes
    // (16 bytes each, about 52 MB) whatever the input claims, and in practice a small
    // multiple of the input.
    constexpr size_t kMaxPbftNodes = kMaxEncodedTxBytes + 64 + kMaxEncodedPbftBytes / 16;
    DecodeSpec spec{"pbft", kMaxEncodedPbftBytes, {8, kMaxBlockTxs, kMaxPbftNodes}};

    // The kind is known before parsing, so the path of the streamed transactions is too.
    std::optional<PbftKind> kind = PeekPbftKind(bytes);
    std::vector<Transaction> txs;
    Path root(spec.root);
    Path body = root.Field(kind ? PbftBodyName(*kind) : "body");
    Path proposal = body.Field("proposal");
    Path block = (kind == PbftKind::kNewView ? proposal : body).Field("block");
    Path txs_path = block.Field("txs");
    auto prepare = [&](TreeBuilder& tree) {
        if (!kind || *kind == PbftKind::kVote) return;
        tree.StreamEntries(PbftTxsFields(*kind), TxStreamer(bytes, tree, txs_path, txs));
    };
    auto read = [&](Reader& r, const Path& p) { return ReadPbftMessage(r, p, txs); };
    return DecodeWith<PbftMessage>(bytes, spec, prepare, read, PutPbftMessage);
}

}  // namespace tc::wire
