#pragma once

#include <string>
#include <vector>

namespace folio::cli {

// Each returns the process exit status: 0 success, 1 failure, 2 usage error.
int runGenerate(const std::vector<std::string>& args);
int runCheckGolden(const std::vector<std::string>& args);
int runTokenize(const std::vector<std::string>& args);
int runLibrary(const std::vector<std::string>& args);

} // namespace folio::cli
