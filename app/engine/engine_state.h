#pragma once
// What the worker holds once a model is loaded, and the pure helpers around it: prompt layout,
// context capacity, snapshot naming and memory estimates.

#include "engine_worker.h"
#include "resident_contexts.h"

#include "backend.h"
#include "model.h"
#include "tokenizer.h"

#include <QString>

#include <memory>
#include <optional>
#include <vector>

namespace folio {

class EngineState {
public:
    std::shared_ptr<const sala::Model> model;
    std::optional<sala::Tokenizer> tokenizer;
    std::unique_ptr<sala::Backend> backend;
    ModelInfo info;
    int prefillChunk = 512;
    std::vector<int> stopTokens;
    ResidentContexts contexts;

    // Settings that outlive a model.
    QString snapshotDir;
    quint64 budgetBytes = 0; // 0: derived from the backend at load time
    int maxContexts = 4;
    QString systemPrompt;

    quint64 effectiveBudget = 0; // what the LRU enforces for the loaded model; 0 = no limit

    bool loaded() const { return backend && tokenizer && model; }
    bool onGpu() const { return backend && backend->name() == "cuda"; }
    bool isStopToken(int id) const;
};

// BOS, an optional system turn, then the user turn up to the end of the document: the part that
// stays resident and is checkpointed.
std::vector<int> documentPrefix(const sala::Tokenizer& tokenizer, const QString& systemPrompt,
                                const QString& document);
// What follows the checkpoint for one question: the earlier turns of the conversation (the first
// question closes the user turn that holds the document), then the question and the assistant
// prompt, tokenized as they would be after the document.
std::vector<int> questionTokens(const sala::Tokenizer& tokenizer, const QList<ChatTurn>& history,
                                const QString& question, bool noThinking);

// Longest context the backend can hold for this model.
qint64 contextCapacity(const sala::Backend& backend);
// Bytes the LRU may fill with resident contexts when no budget was set.
quint64 defaultContextBudget(const sala::Backend& backend);
// Estimated bytes of a resident context of `tokens` tokens, checkpoint included.
quint64 estimateContextBytes(const sala::Backend& backend, qint64 tokens);
// The part of a context's report that belongs to it alone (not the shared weights).
quint64 ownBytes(const sala::MemoryReport& report);

QByteArray contentHash(const QString& systemPrompt, const QString& document);
// <dir>/<key made file-safe>-<model fingerprint>-<content hash>.salactx
QString snapshotPath(const QString& dir, const QString& key, quint64 fingerprint,
                     const QByteArray& hash);

QString deviceDescription(const sala::Backend& backend);

} // namespace folio
