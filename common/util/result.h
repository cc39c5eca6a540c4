// Errors as values. Every fallible function in libtimecoin returns a
// Result<T>: either a value or an Error whose message names the field and the
// reason ("tx.inputs[3].vout: 70000 exceeds outputs of 9f2c..."). Exceptions
// are kept for the edges (CLI parsing, programmer errors); decoders of bytes
// from disk or peers always return an Error, never throw or assert.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace tc::util {

// What kind of failure, so that a caller can choose an exit code or a
// JSON-RPC error code without parsing the message.
enum class Errc {
    kInvalid,     // malformed or rule-breaking input (bytes, JSON, a field)
    kUsage,       // the user asked for something the command cannot do (exit 2)
    kNotFound,    // a file, block, tx or key that does not exist
    kIo,          // the operating system said no (read, write, fsync, full disk)
    kPermission,  // a file whose mode or owner we refuse (a readable key file)
    kCrypto,      // a signature, MAC or passphrase that does not check
    kConflict,    // already exists, double spend, contradicting state
    kInternal,    // a bug or a library failure that should not happen
};

const char* ErrcName(Errc code);

struct Error {
    Errc code = Errc::kInvalid;
    std::string message;

    // Prefixes the message with a field path: Error{"bad"}.In("tx.inputs[0]")
    // gives "tx.inputs[0]: bad". Used while unwinding through nested decoders.
    Error In(const std::string& field) const&;
    Error In(const std::string& field) &&;
};

inline Error MakeError(Errc code, std::string message) {
    return Error{code, std::move(message)};
}

// Result<T>: a T or an Error. [[nodiscard]] so that an error cannot be
// dropped by accident. Access to value() on an error, or error() on a value,
// is a programmer error and throws std::bad_variant_access.
template <typename T>
class [[nodiscard]] Result {
  public:
    Result(T value) : m_v(std::in_place_index<0>, std::move(value)) {}
    Result(Error error) : m_v(std::in_place_index<1>, std::move(error)) {}

    bool ok() const { return m_v.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<0>(m_v); }
    const T& value() const& { return std::get<0>(m_v); }
    T&& value() && { return std::get<0>(std::move(m_v)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const& { return std::get<1>(m_v); }
    Error&& error() && { return std::get<1>(std::move(m_v)); }

  private:
    std::variant<T, Error> m_v;
};

template <>
class [[nodiscard]] Result<void> {
  public:
    Result() = default;
    Result(Error error) : m_error(std::move(error)), m_ok(false) {}

    bool ok() const { return m_ok; }
    explicit operator bool() const { return m_ok; }
    const Error& error() const& { return m_error; }
    Error&& error() && { return std::move(m_error); }

  private:
    Error m_error;
    bool m_ok = true;
};

using Status = Result<void>;

}  // namespace tc::util

// TC_TRY(var, expr): evaluates expr (a Result<T>); on error returns the error
// from the enclosing function, else moves the value into a new variable var.
#define TC_TRY(var, expr)                                             \
    auto var##_result_ = (expr);                                      \
    if (!var##_result_.ok()) return std::move(var##_result_).error(); \
    auto var = std::move(var##_result_).value()

// TC_CHECK(expr): evaluates expr (a Status); on error returns it.
#define TC_CHECK(expr)                                   \
    do {                                                 \
        auto tc_status_ = (expr);                        \
        if (!tc_status_.ok()) return tc_status_.error(); \
    } while (0)
