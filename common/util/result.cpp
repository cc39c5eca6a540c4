#include "util/result.h"

namespace tc::util {

const char* ErrcName(Errc code) {
    switch (code) {
        case Errc::kInvalid:
            return "invalid";
        case Errc::kUsage:
            return "usage";
        case Errc::kNotFound:
            return "not-found";
        case Errc::kIo:
            return "io";
        case Errc::kPermission:
            return "permission";
        case Errc::kCrypto:
            return "crypto";
        case Errc::kConflict:
            return "conflict";
        case Errc::kInternal:
            return "internal";
    }
    return "unknown";
}

Error Error::In(const std::string& field) const& {
    return Error{code, field + ": " + message};
}

Error Error::In(const std::string& field) && {
    message.insert(0, field + ": ");
    return std::move(*this);
}

}  // namespace tc::util
