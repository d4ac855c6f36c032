#pragma once
// The contexts the worker keeps, by key, with least-recently-used order. An entry whose context
// was evicted keeps its record (document, snapshot file), so it can come back without the UI
// sending the document again.

#include "backend.h"

#include <QByteArray>
#include <QString>

#include <map>
#include <memory>
#include <vector>

namespace folio {

struct ResidentEntry {
    QString key;
    QString documentText;
    QString systemPrompt;
    QByteArray contentHash;                 // of system prompt and document: names the snapshot
    std::unique_ptr<sala::Context> context; // null while evicted
    sala::CheckpointId checkpoint = 0;      // right after the document
    qint64 prefixTokens = 0;
    quint64 bytes = 0; // estimated bytes of the resident context
    quint64 lastUse = 0;
    QString snapshotFile; // where the evicted context was saved; empty if nowhere
};

class ResidentContexts {
public:
    ResidentEntry* find(const QString& key);
    ResidentEntry& put(ResidentEntry entry); // replaces an entry of the same key
    void touch(ResidentEntry& entry) { entry.lastUse = ++clock_; }
    void remove(const QString& key) { entries_.erase(key); }
    void clear() { entries_.clear(); }

    std::vector<ResidentEntry*> resident();
    int residentCount() const;
    quint64 residentBytes() const;
    // The resident entry used longest ago, other than `except`; null if none.
    ResidentEntry* leastRecentlyUsed(const QString& except);

private:
    std::map<QString, ResidentEntry> entries_;
    quint64 clock_ = 0;
};

} // namespace folio
