#include "file_util.h"

#include <fstream>
#include <sstream>

namespace sala {

Result<std::string> readTextFile(const std::filesystem::path& file) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec))
        return makeError(ErrorCode::NotFound, file.string() + ": no such file");
    std::ifstream in(file, std::ios::binary);
    if (!in) return makeError(ErrorCode::Io, file.string() + ": cannot open file");
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) return makeError(ErrorCode::Io, file.string() + ": read error");
    return ss.str();
}

} // namespace sala
