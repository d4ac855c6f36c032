#include "kernel_timeline.h"

#include <cxxabi.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>

namespace folio::bench {

namespace {

// Only "_Z..." is a mangled symbol; a short plain name such as "c" would demangle as a type.
std::string demangled(const std::string& name) {
    if (name.rfind("_Z", 0) != 0) return name;
    int status = 0;
    std::unique_ptr<char, decltype(&std::free)> out(
        abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status), &std::free);
    return status == 0 && out ? std::string(out.get()) : name;
}

template <typename Map, typename Item> std::vector<Item> largestFirst(const Map& map) {
    std::vector<Item> items;
    for (const auto& [key, item] : map) items.push_back(item);
    std::sort(items.begin(), items.end(),
              [](const Item& a, const Item& b) { return a.nanoseconds > b.nanoseconds; });
    return items;
}

double ms(uint64_t ns, int passes) {
    return ns / 1e6 / std::max(passes, 1);
}

// The entries split by pass: their first, middle and last pass, in ms.
std::string formatPassSpread(const TimelineSummary& s, int passes, int top) {
    std::string out;
    if (passes < 2) return out;
    char line[512];
    int shown = 0;
    for (const TimelineEntry& e : s.entries) {
        if (shown == top) break;
        if (e.perPass.size() != size_t(passes)) continue;
        if (shown++ == 0) {
            std::snprintf(line, sizeof line,
                          "\n| kernel | pass 1 | pass %d | pass %d |\n|---|---|---|---|\n",
                          passes / 2 + 1, passes);
            out += line;
        }
        std::snprintf(line, sizeof line, "| %s | %.3f | %.3f | %.3f |\n", e.name.c_str(),
                      ms(e.perPass.front(), 1), ms(e.perPass[passes / 2], 1),
                      ms(e.perPass.back(), 1));
        out += line;
    }
    return out;
}

} // namespace

std::string shortKernelName(const std::string& name) {
    std::string s = demangled(name);
    for (const std::string anon : {"(anonymous namespace)::", "`anonymous namespace'::"})
        for (size_t at; (at = s.find(anon)) != std::string::npos;) s.erase(at, anon.size());
    // The function name ends where its template or parameter list begins.
    const size_t open = s.find_first_of("<(");
    if (open != std::string::npos) s.erase(open);
    const size_t space = s.rfind(' '); // the return type of a demangled symbol
    if (space != std::string::npos) s.erase(0, space + 1);
    const size_t scope = s.rfind("::");
    if (scope != std::string::npos) s.erase(0, scope + 2);
    return s.empty() ? name : s;
}

TimelineSummary summarizeTimeline(const std::vector<TimelineRecord>& records, uint64_t from,
                                  uint64_t to, int passes) {
    std::vector<const TimelineRecord*> in;
    for (const TimelineRecord& r : records)
        if (r.start >= from && r.start < to && r.end >= r.start) in.push_back(&r);
    std::sort(in.begin(), in.end(),
              [](const TimelineRecord* a, const TimelineRecord* b) { return a->start < b->start; });
    TimelineSummary s;
    s.records = static_cast<int64_t>(in.size());
    if (in.empty()) return s;
    std::map<std::string, TimelineEntry> entries;
    std::map<std::string, std::vector<uint64_t>> durations; // in start order, when passes > 1
    std::map<std::pair<std::string, std::string>, TimelineGap> gaps;
    // A phase launches a few dozen kernels thousands of times: demangle each name once.
    std::map<std::string, std::string> shortNames;
    auto shortOf = [&](const std::string& raw) -> const std::string& {
        auto it = shortNames.find(raw);
        if (it == shortNames.end()) it = shortNames.emplace(raw, shortKernelName(raw)).first;
        return it->second;
    };
    uint64_t coveredFrom = in.front()->start, coveredTo = in.front()->end;
    std::string last; // set by the first record, which ends at coveredTo
    for (size_t i = 0; i < in.size(); ++i) {
        const TimelineRecord& r = *in[i];
        const std::string& name = shortOf(r.name);
        TimelineEntry& e = entries[name];
        e.name = name;
        ++e.count;
        e.nanoseconds += r.end - r.start;
        if (passes > 1) durations[name].push_back(r.end - r.start);
        if (i > 0 && r.start > coveredTo) {
            s.busy += coveredTo - coveredFrom;
            TimelineGap& g = gaps[{last, name}];
            g.before = last;
            g.after = name;
            ++g.count;
            g.nanoseconds += r.start - coveredTo;
            coveredFrom = r.start;
        }
        if (i == 0)
            e.marginal += r.end - r.start;
        else if (r.end > coveredTo)
            e.marginal += r.end - std::max(coveredTo, r.start);
        if (r.end >= coveredTo) last = name; // the record that ends last precedes the next gap
        coveredTo = std::max(coveredTo, r.end);
    }
    s.busy += coveredTo - coveredFrom;
    s.span = coveredTo - in.front()->start;
    for (auto& [name, list] : durations) {
        if (list.size() % passes != 0) continue;
        const size_t each = list.size() / passes;
        std::vector<uint64_t>& perPass = entries[name].perPass;
        perPass.assign(passes, 0);
        for (size_t i = 0; i < list.size(); ++i) perPass[i / each] += list[i];
    }
    s.entries = largestFirst<decltype(entries), TimelineEntry>(entries);
    s.gaps = largestFirst<decltype(gaps), TimelineGap>(gaps);
    return s;
}

std::string formatTimeline(const TimelineSummary& s, const std::string& title, int passes,
                           int top) {
    const char* unit = passes > 1 ? "ms per pass" : "ms";
    char line[512];
    std::string out;
    std::snprintf(line, sizeof line,
                  "\n%s: %lld records, span %.3f %s, GPU busy %.3f, idle %.3f\n\n| kernel | "
                  "count | %s | marginal | share |\n|---|---|---|---|---|\n",
                  title.c_str(), static_cast<long long>(s.records), ms(s.span, passes), unit,
                  ms(s.busy, passes), ms(s.span - s.busy, passes), unit);
    out += line;
    uint64_t total = 0;
    for (const TimelineEntry& e : s.entries) total += e.nanoseconds;
    for (size_t i = 0; i < s.entries.size() && int(i) < top; ++i) {
        const TimelineEntry& e = s.entries[i];
        std::snprintf(line, sizeof line, "| %s | %lld | %.3f | %.3f | %.1f %% |\n", e.name.c_str(),
                      static_cast<long long>(e.count), ms(e.nanoseconds, passes),
                      ms(e.marginal, passes), total ? 100.0 * e.nanoseconds / total : 0.0);
        out += line;
    }
    out += formatPassSpread(s, passes, top);
    if (s.gaps.empty()) return out;
    std::snprintf(line, sizeof line, "\n| idle after | before | count | %s |\n|---|---|---|---|\n",
                  unit);
    out += line;
    for (size_t i = 0; i < s.gaps.size() && int(i) < std::max(top / 3, 1); ++i) {
        const TimelineGap& g = s.gaps[i];
        std::snprintf(line, sizeof line, "| %s | %s | %lld | %.3f |\n", g.before.c_str(),
                      g.after.c_str(), static_cast<long long>(g.count), ms(g.nanoseconds, passes));
        out += line;
    }
    return out;
}

} // namespace folio::bench
