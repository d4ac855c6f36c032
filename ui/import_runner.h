#pragma once
// Runs imports off the UI thread. Each import opens its own connection to the library file
// (Qt SQL connections belong to the thread that opened them) and reports back through queued
// signals, so the window stays responsive while a large folder is read.

#include "import_pipeline.h"

#include <QFutureWatcher>
#include <QObject>

#include <atomic>
#include <memory>

namespace folio {

class TokenCounter;

class ImportRunner : public QObject {
    Q_OBJECT
public:
    explicit ImportRunner(QString libraryPath, QObject* parent = nullptr);
    ~ImportRunner() override; // cancels and waits for imports in flight

    // Used by later imports; must be safe to call from worker threads (SalaTokenCounter is).
    void setTokenCounter(std::shared_ptr<const TokenCounter> counter);

    // Starts an import of `paths`; returns its id (used by the signals).
    int start(const QStringList& paths, const PipelineOptions& options = {});
    void cancelAll();
    int running() const { return running_; }

signals:
    void started(int job, const QStringList& paths);
    void progress(int job, double fraction, const QString& message);
    void itemDone(int job, const folio::ImportItem& item);
    void finished(int job, const folio::ImportSummary& summary, const QString& error);

private:
    QString libraryPath_;
    std::shared_ptr<const TokenCounter> counter_;
    std::shared_ptr<std::atomic<bool>> cancel_;
    QList<QFutureWatcher<void>*> watchers_;
    int nextJob_ = 1;
    int running_ = 0;
};

} // namespace folio

Q_DECLARE_METATYPE(folio::ImportItem)
Q_DECLARE_METATYPE(folio::ImportSummary)
