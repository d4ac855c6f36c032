#pragma once
// A small command-line parser: "--name value" options, "--flag" switches and positionals.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace folio::cli {

class Args {
public:
    // `valued` lists the options that take a value; every other "--x" is a switch.
    Args(const std::vector<std::string>& argv, const std::set<std::string>& valued);

    bool ok() const { return error_.empty(); }
    const std::string& error() const { return error_; }
    bool has(const std::string& name) const;
    std::optional<std::string> value(const std::string& name) const;
    const std::vector<std::string>& positionals() const { return positionals_; }

    // Typed accessors that record a parse error (see error()) on bad input.
    long long integer(const std::string& name, long long fallback);
    double number(const std::string& name, double fallback);

private:
    std::map<std::string, std::string> values_;
    std::set<std::string> switches_;
    std::vector<std::string> positionals_;
    std::string error_;
};

} // namespace folio::cli
