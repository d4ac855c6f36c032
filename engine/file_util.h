#pragma once

#include "result.h"

#include <filesystem>
#include <string>

namespace sala {

// Reads a whole (small) file such as a JSON configuration.
Result<std::string> readTextFile(const std::filesystem::path& file);

} // namespace sala
