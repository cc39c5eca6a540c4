#include "util/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace tc::util {

Status WriteFileAtomic(const std::string& path, std::string_view content, unsigned mode) {
    const std::string tmp = path + ".tmp";
    auto fail = [&](int fd, const std::string& what, int err) {
        if (fd >= 0) ::close(fd);
        ::unlink(tmp.c_str());
        return MakeError(Errc::kIo, what + ": " + std::strerror(err));
    };
    ::unlink(tmp.c_str());  // a leftover of a crash
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) return fail(-1, "cannot create " + tmp, errno);
    // The umask may have taken bits away: exactly `mode`, never more.
    if (::fchmod(fd, mode) != 0) return fail(fd, "cannot chmod " + tmp, errno);
    for (size_t done = 0; done < content.size();) {
        const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(fd, "cannot write " + tmp, errno);
        if (n == 0) return fail(fd, "cannot write " + tmp, EIO);
        done += static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0) return fail(fd, "cannot fsync " + tmp, errno);
    if (::close(fd) != 0) return fail(-1, "cannot close " + tmp, errno);
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        return fail(-1, "cannot rename " + tmp + " to " + path, errno);
    }
    std::filesystem::path parent = std::filesystem::path(path).parent_path();
    const std::string dir = parent.empty() ? std::string(".") : parent.string();
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return MakeError(Errc::kIo, "cannot open " + dir + ": " + std::strerror(errno));
    const int rc = ::fsync(dfd);
    const int err = errno;
    ::close(dfd);
    if (rc != 0) return MakeError(Errc::kIo, "cannot fsync " + dir + ": " + std::strerror(err));
    return {};
}

}  // namespace tc::util
