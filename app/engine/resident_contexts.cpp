#include "resident_contexts.h"

namespace folio {

ResidentEntry* ResidentContexts::find(const QString& key) {
    auto it = entries_.find(key);
    return it == entries_.end() ? nullptr : &it->second;
}

ResidentEntry& ResidentContexts::put(ResidentEntry entry) {
    const QString key = entry.key;
    entries_.erase(key);
    ResidentEntry& stored = entries_.emplace(key, std::move(entry)).first->second;
    touch(stored);
    return stored;
}

std::vector<ResidentEntry*> ResidentContexts::resident() {
    std::vector<ResidentEntry*> out;
    for (auto& [key, entry] : entries_)
        if (entry.context) out.push_back(&entry);
    return out;
}

int ResidentContexts::residentCount() const {
    int n = 0;
    for (const auto& [key, entry] : entries_) n += entry.context ? 1 : 0;
    return n;
}

quint64 ResidentContexts::residentBytes() const {
    quint64 total = 0;
    for (const auto& [key, entry] : entries_)
        if (entry.context) total += entry.bytes;
    return total;
}

ResidentEntry* ResidentContexts::leastRecentlyUsed(const QString& except) {
    ResidentEntry* best = nullptr;
    for (auto& [key, entry] : entries_) {
        if (!entry.context || key == except) continue;
        if (!best || entry.lastUse < best->lastUse) best = &entry;
    }
    return best;
}

} // namespace folio
