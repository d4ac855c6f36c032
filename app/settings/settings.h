#pragma once
// The app's persistent settings (QSettings "Folio"/"folio"), typed, with defaults and ranges.

#include "engine_worker.h"

#include <QSettings>
#include <QString>

namespace folio {

class Settings {
public:
    Settings();

    QString modelFolder() const; // empty until chosen or found
    void setModelFolder(const QString& dir);

    QString backend() const; // "auto", "cpu" or "cuda"
    // False (and nothing stored) for any other name.
    bool setBackend(const QString& backend);

    quint64 vramBudget() const; // bytes the engine may use on the GPU; 0 = all free memory
    void setVramBudget(quint64 bytes);

    int prefillChunk() const;         // tokens per prefill step
    void setPrefillChunk(int tokens); // clamped to [kMinChunk, kMaxChunk]
    static constexpr int kMinChunk = 16;
    static constexpr int kMaxChunk = 65536;

    // Temperature, top-k/p, min-p, repetition penalty, seed, max tokens, no-thinking; the
    // system prompt of the result is systemPrompt().
    AskOptions samplingDefaults() const;
    void setSamplingDefaults(const AskOptions& options);

    QString systemPrompt() const;
    void setSystemPrompt(const QString& prompt);

    QString dataFolder() const; // default: QStandardPaths::AppDataLocation
    void setDataFolder(const QString& dir);
    QString snapshotFolder() const { return dataFolder() + QStringLiteral("/snapshots"); }

    void sync() { settings_.sync(); }

private:
    QSettings settings_;
};

} // namespace folio
