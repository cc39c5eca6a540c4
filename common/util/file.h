// Files written whole: a reader (or a restart after a crash) sees the old
// file or the whole new one, never a part. For small state files: the RPC
// cookie and URL, tc-p2p's bans.
#pragma once

#include <string>
#include <string_view>

#include "util/result.h"

namespace tc::util {

// Writes `content` to PATH.tmp with exactly `mode`, fsyncs it, renames it
// over `path` and fsyncs the directory. kIo naming the file and the
// system's reason; PATH.tmp is removed on failure and the old file, if any,
// is left as it was.
Status WriteFileAtomic(const std::string& path, std::string_view content, unsigned mode);

}  // namespace tc::util
