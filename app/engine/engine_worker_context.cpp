// Resident contexts: building, snapshot reuse and least-recently-used eviction.

#include "engine_state.h"
#include "engine_worker.h"

#include "generator.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QtDebug>

namespace folio {

namespace {

std::filesystem::path nativePath(const QString& file) {
    return std::filesystem::path(QFile::encodeName(file).toStdString());
}

} // namespace

void EngineWorker::openContext(const QString& key, const QString& documentText) {
    cancelRequested_.store(false);
    if (!state_->loaded()) {
        emit contextFailed(key, QStringLiteral("No model is loaded; choose a model folder first."));
        return;
    }
    ResidentEntry* entry = state_->contexts.find(key);
    if (entry && entry->context &&
        entry->contentHash == contentHash(state_->systemPrompt, documentText)) {
        state_->contexts.touch(*entry);
        emitMemory();
        emit contextReady(key, entry->prefixTokens, false);
        return;
    }
    buildContext(key, documentText, state_->systemPrompt);
}

bool EngineWorker::buildContext(const QString& key, const QString& documentText,
                                const QString& systemPrompt) {
    EngineState& s = *state_;
    s.contexts.remove(key); // a stale version of this key, if any
    const QByteArray hash = contentHash(systemPrompt, documentText);
    const std::vector<int> tokens = documentPrefix(*s.tokenizer, systemPrompt, documentText);
    const qint64 length = qint64(tokens.size());
    if (length >= s.info.contextCapacity) {
        emit contextFailed(
            key, QStringLiteral("The document needs %1 tokens, but this model on the %2 backend "
                                "holds at most %3 tokens of context. Nothing was truncated: "
                                "select fewer documents or raise the memory budget.")
                     .arg(length)
                     .arg(s.info.backendName)
                     .arg(s.info.contextCapacity));
        return false;
    }
    trimResident(key, estimateContextBytes(*s.backend, length), 1);
    auto created = s.backend->createContext();
    if (!created) {
        emit contextFailed(key, QString::fromStdString(created.error().message));
        return false;
    }
    std::unique_ptr<sala::Context> context = std::move(created).value();
    const QString file = snapshotPath(snapshotDir(), key, s.model->fingerprint, hash);
    const bool fromSnapshot = restoreSnapshot(*context, file, tokens);
    if (!fromSnapshot && !prefillDocument(key, *context, tokens)) return false;

    ResidentEntry entry;
    entry.key = key;
    entry.documentText = documentText;
    entry.systemPrompt = systemPrompt;
    entry.contentHash = hash;
    entry.checkpoint = context->checkpoint();
    entry.prefixTokens = length;
    entry.bytes = ownBytes(context->memory());
    entry.snapshotFile = fromSnapshot ? file : QString();
    entry.context = std::move(context);
    s.contexts.put(std::move(entry));
    trimResident(key, 0, 0); // the real size may exceed the estimate
    // Memory first, so a listener reacting to readiness sees the new readout.
    emitMemory();
    emit contextReady(key, length, fromSnapshot);
    return true;
}

bool EngineWorker::restoreSnapshot(sala::Context& context, const QString& file,
                                   const std::vector<int>& expected) {
    if (!QFile::exists(file)) return false;
    const sala::Status loaded = context.load(nativePath(file));
    if (loaded && context.tokens() == expected) return true;
    // A damaged or outdated snapshot is only a cache: prefill instead, and stop trusting it.
    qWarning().noquote() << "Ignoring context snapshot" << file << ":"
                         << (loaded ? QStringLiteral("its tokens differ from the document")
                                    : QString::fromStdString(loaded.error().message));
    context.reset();
    QFile::remove(file);
    return false;
}

bool EngineWorker::prefillDocument(const QString& key, sala::Context& context,
                                   const std::vector<int>& tokens) {
    const qint64 total = qint64(tokens.size());
    if (const sala::Status reserved = context.reserve(total); !reserved) {
        emit contextFailed(key, QString::fromStdString(reserved.error().message));
        return false;
    }
    QElapsedTimer timer;
    timer.start();
    qint64 lastReport = 0;
    bool reportedFirstChunk = false;
    auto progress = [&](int64_t done, int64_t all) {
        const qint64 ms = timer.elapsed();
        // The start, the first finished chunk (a first rate), then about four times a second.
        const bool due =
            done == 0 || done == all || (!reportedFirstChunk && done > 0) || ms - lastReport >= 250;
        if (due) {
            reportedFirstChunk = reportedFirstChunk || done > 0;
            lastReport = ms;
            const double rate = ms > 0 ? done * 1000.0 / ms : 0.0;
            emit contextProgress(key, done, all, rate);
            EngineStats live;
            live.prefillTokPerSec = rate;
            live.promptTokens = done;
            emit speedUpdated(live);
        }
        return !cancelRequested_.load();
    };
    sala::ForwardOutput last;
    const sala::Status status =
        sala::prefill(context, tokens, state_->prefillChunk, progress, last);
    if (status) return true;
    const bool cancelled = status.error().code == sala::ErrorCode::Cancelled;
    emit contextFailed(key, cancelled ? QStringLiteral("cancelled")
                                      : QString::fromStdString(status.error().message));
    return false;
}

void EngineWorker::trimResident(const QString& keep, quint64 incomingBytes, int incomingCount) {
    EngineState& s = *state_;
    auto over = [&] {
        const bool tooMany = s.contexts.residentCount() + incomingCount > s.maxContexts;
        const bool tooBig =
            s.effectiveBudget > 0 && s.contexts.residentBytes() + incomingBytes > s.effectiveBudget;
        return tooMany || tooBig;
    };
    while (over()) {
        ResidentEntry* victim = s.contexts.leastRecentlyUsed(keep);
        if (!victim) break;
        evict(*victim);
    }
}

void EngineWorker::evict(ResidentEntry& entry) {
    const QString dir = snapshotDir();
    const QString file =
        snapshotPath(dir, entry.key, state_->model->fingerprint, entry.contentHash);
    // The snapshot holds the document alone, the state every question starts from.
    sala::Status saved = entry.context->rollback(entry.checkpoint);
    if (saved && !QDir().mkpath(dir))
        saved = sala::makeError(sala::ErrorCode::Io, "cannot create " + dir.toStdString());
    if (saved) saved = entry.context->save(nativePath(file));
    if (saved) {
        entry.snapshotFile = file;
    } else {
        qWarning().noquote() << "Dropping context" << entry.key << "without a snapshot:"
                             << QString::fromStdString(saved.error().message);
        QFile::remove(file);
        entry.snapshotFile.clear();
    }
    entry.context.reset();
}

} // namespace folio
