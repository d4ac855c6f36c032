#pragma once
// The engine seen from the app: a QObject living on its own thread, driven by queued slot calls
// and reporting through signals, so the UI never waits on the model.

#include "load_progress.h"

#include <QMap>
#include <QMetaType>
#include <QObject>
#include <QString>
#include <QThread>

#include <atomic>
#include <memory>
#include <vector>

namespace sala {
class Context;
}

namespace folio {

struct ModelInfo {
    QString dir;
    QString backendName;
    QString deviceName;
    qint64 contextCapacity = 0;
    bool isDemo = false; // Folio's bundled demo model, not MiniCPM-SALA (config "folio_demo")
};

struct EngineStats {
    double ttftSeconds = 0, prefillTokPerSec = 0, decodeTokPerSec = 0;
    qint64 promptTokens = 0, generatedTokens = 0;
};

struct MemoryReadout {
    quint64 weights = 0, kvCache = 0, compressedKeys = 0, linearState = 0, checkpoints = 0,
            workspace = 0, deviceFree = 0, deviceTotal = 0;
    bool gpu = false;
    quint64 processRss = 0;
    QMap<QString, quint64> perDocument;
};

struct AskOptions {
    double temperature = 0.9;
    int topK = 0;
    double topP = 1.0;
    double minP = 0;
    double repetitionPenalty = 1.0;
    quint64 seed = 0;
    int maxTokens = 1024;
    bool noThinking = false;
    QString systemPrompt;
    bool operator==(const AskOptions&) const = default;
};

// An earlier question and its answer (without the reasoning), put between the document and the
// next question so a follow-up is read in the light of the conversation so far.
struct ChatTurn {
    QString question;
    QString answer;
};

class EngineState; // model, tokenizer, backend and resident contexts (engine_state.h)
struct ResidentEntry;

class EngineWorker : public QObject { // moved to its own QThread by EngineController
    Q_OBJECT
public:
    explicit EngineWorker(QObject* parent = nullptr);
    ~EngineWorker() override;

public slots:
    // Configuration, also callable through EngineController (queued). Where snapshots of evicted
    // contexts go (default: <AppDataLocation>/snapshots).
    void setSnapshotDir(const QString& dir);
    // Resident-context limits: estimated bytes of all resident contexts (0 = derived from the
    // backend: free VRAM after the weights, or 3/4 of available RAM) and how many at most.
    void setResidentLimits(quint64 budgetBytes, int maxContexts);
    // The system turn put in front of documents opened from now on. An ask whose
    // AskOptions::systemPrompt is non-empty and differs replaces it, and the context is
    // prefilled again (the system turn precedes the document in the prompt).
    void setSystemPrompt(const QString& systemPrompt);

    void loadModel(const QString& dir, const QString& backend /*auto|cpu|cuda*/, quint64 vramLimit,
                   int prefillChunk);
    // Makes the context for `key` (a document id list joined, e.g. "doc:3" or "docs:3,5")
    // resident: reuses it, reopens its snapshot, or prefills `documentText`; checkpoints right
    // after the document.
    void openContext(const QString& key, const QString& documentText);
    // A key whose context was evicted, or was built with another system prompt, is rebuilt
    // first (from its snapshot when possible), with contextProgress/contextReady as for
    // openContext. `history` goes in after the document checkpoint, before the question.
    void ask(const QString& key, const QString& question, const folio::AskOptions& options,
             const QList<folio::ChatTurn>& history = {});
    void unloadAll();

public:
    // Thread-safe, callable from the UI thread directly (atomics):
    void requestCancel(); // cancels a load in progress: a model's or a context's
    void requestStop();   // stops the answer being generated

signals:
    // While a model loads: bytes of weights read (CPU) or uploaded (CUDA) of all, from 0 to the
    // whole, after every 64 MiB section (CPU) or block or tensor (CUDA).
    void modelProgress(qint64 doneBytes, qint64 totalBytes);
    void modelLoaded(const folio::ModelInfo& info);
    void modelFailed(const QString& message); // "cancelled" after requestCancel
    void contextProgress(const QString& key, qint64 done, qint64 total, double tokensPerSecond);
    void contextReady(const QString& key, qint64 tokens, bool fromSnapshot);
    void contextFailed(const QString& key, const QString& message); // includes cancel ("cancelled")
    void answerStarted(const QString& key);
    void answerText(const QString& key, const QString& textDelta); // streamed, valid UTF-8 pieces
    // stopReason: "stop" (end-of-turn token), "length" (maxTokens or the context is full),
    // "stopped" (requestStop).
    void answerFinished(const QString& key, const folio::EngineStats& stats,
                        const QString& stopReason);
    void answerFailed(const QString& key, const QString& message);
    void memoryUpdated(const folio::MemoryReadout& readout);
    void speedUpdated(const folio::EngineStats& live); // during prefill and decode, ~4 times/s

private:
    bool buildContext(const QString& key, const QString& documentText, const QString& systemPrompt);
    sala::LoadProgress modelProgressReporter();
    bool restoreSnapshot(sala::Context& context, const QString& file,
                         const std::vector<int>& expected);
    bool prefillDocument(const QString& key, sala::Context& context,
                         const std::vector<int>& tokens);
    // Evicts least recently used contexts until `incomingBytes` more and `incomingCount` more
    // contexts fit the limits; `keep` is never evicted.
    void trimResident(const QString& keep, quint64 incomingBytes, int incomingCount);
    void evict(ResidentEntry& entry);
    void emitMemory();
    QString snapshotDir() const;

    std::unique_ptr<EngineState> state_;
    std::atomic<bool> cancelRequested_{false};
    std::atomic<bool> stopRequested_{false};
};

// UI-thread facade: owns the worker's thread, forwards the slots as queued calls and re-emits
// the worker's signals.
class EngineController : public QObject {
    Q_OBJECT
public:
    explicit EngineController(QObject* parent = nullptr);
    ~EngineController() override; // stops any work in flight and joins the thread

    // The worker lives on another thread: connect to it or call requestCancel/requestStop only.
    EngineWorker* worker() const { return worker_; }

public slots:
    void loadModel(const QString& dir, const QString& backend, quint64 vramLimit, int prefillChunk);
    void openContext(const QString& key, const QString& documentText);
    void ask(const QString& key, const QString& question, const folio::AskOptions& options,
             const QList<folio::ChatTurn>& history = {});
    void unloadAll();
    void setSnapshotDir(const QString& dir);
    void setResidentLimits(quint64 budgetBytes, int maxContexts);
    void setSystemPrompt(const QString& systemPrompt);
    void requestCancel();
    void requestStop();

signals:
    void modelProgress(qint64 doneBytes, qint64 totalBytes);
    void modelLoaded(const folio::ModelInfo& info);
    void modelFailed(const QString& message);
    void contextProgress(const QString& key, qint64 done, qint64 total, double tokensPerSecond);
    void contextReady(const QString& key, qint64 tokens, bool fromSnapshot);
    void contextFailed(const QString& key, const QString& message);
    void answerStarted(const QString& key);
    void answerText(const QString& key, const QString& textDelta);
    void answerFinished(const QString& key, const folio::EngineStats& stats,
                        const QString& stopReason);
    void answerFailed(const QString& key, const QString& message);
    void memoryUpdated(const folio::MemoryReadout& readout);
    void speedUpdated(const folio::EngineStats& live);

private:
    QThread thread_;
    EngineWorker* worker_ = nullptr;
};

// Registers the structs above for queued connections; EngineController calls it, tests that use
// a bare EngineWorker on another thread call it too.
void registerEngineMetaTypes();

} // namespace folio

Q_DECLARE_METATYPE(folio::ModelInfo)
Q_DECLARE_METATYPE(folio::EngineStats)
Q_DECLARE_METATYPE(folio::MemoryReadout)
Q_DECLARE_METATYPE(folio::AskOptions)
Q_DECLARE_METATYPE(folio::ChatTurn)
