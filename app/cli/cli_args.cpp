#include "cli_args.h"

#include <charconv>
#include <cstdlib>

namespace folio::cli {

Args::Args(const std::vector<std::string>& argv, const std::set<std::string>& valued) {
    for (size_t i = 0; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (a.size() > 2 && a.rfind("--", 0) == 0) {
            std::string name = a.substr(2);
            std::string inlineValue;
            const auto eq = name.find('=');
            const bool hasInline = eq != std::string::npos;
            if (hasInline) {
                inlineValue = name.substr(eq + 1);
                name = name.substr(0, eq);
            }
            if (valued.count(name)) {
                if (hasInline) {
                    values_[name] = inlineValue;
                } else if (i + 1 < argv.size()) {
                    values_[name] = argv[++i];
                } else {
                    error_ = "option --" + name + " needs a value";
                    return;
                }
            } else if (hasInline) {
                error_ = "option --" + name + " takes no value";
                return;
            } else {
                switches_.insert(name);
            }
        } else {
            positionals_.push_back(a);
        }
    }
}

bool Args::has(const std::string& name) const {
    return switches_.count(name) || values_.count(name);
}

std::optional<std::string> Args::value(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) return std::nullopt;
    return it->second;
}

long long Args::integer(const std::string& name, long long fallback) {
    auto v = value(name);
    if (!v) return fallback;
    long long out = 0;
    auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
    if (ec != std::errc() || end != v->data() + v->size()) {
        error_ = "option --" + name + " expects an integer, got \"" + *v + "\"";
        return fallback;
    }
    return out;
}

double Args::number(const std::string& name, double fallback) {
    auto v = value(name);
    if (!v) return fallback;
    char* end = nullptr;
    const double out = std::strtod(v->c_str(), &end);
    if (v->empty() || end != v->c_str() + v->size()) {
        error_ = "option --" + name + " expects a number, got \"" + *v + "\"";
        return fallback;
    }
    return out;
}

} // namespace folio::cli
