#pragma once
// The app's persistent settings (QSettings "Folio"/"folio", or an INI file), typed, with defaults
// and ranges.

#include "engine_worker.h"

#include <QSettings>
#include <QString>

namespace folio {

inline constexpr int kDefaultPrefillChunk = 2048;

// Every setting at once: what the settings dialog edits, and what the window compares before and
// after an edit to know whether the model must be loaded again.
struct SettingsValues {
    QString modelFolder;
    QString backend = QStringLiteral("auto");
    quint64 vramBudget = 0;
    int prefillChunk = kDefaultPrefillChunk;
    AskOptions sampling; // with the system prompt
    QString dataFolder;
    bool operator==(const SettingsValues&) const = default;
};

class Settings {
public:
    Settings();
    // Settings kept in an INI file instead of the platform's store (tests, portable setups).
    explicit Settings(const QString& iniFile);

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

    QString dataFolder() const; // default: defaultDataFolder(), which folio-cli shares
    void setDataFolder(const QString& dir);
    QString snapshotFolder() const { return dataFolder() + QStringLiteral("/snapshots"); }
    // The library database inside the data folder (the folder is created when missing); what
    // folio-cli opens by default too.
    QString libraryPath() const;

    SettingsValues values() const;
    // Stores all of `values` (the backend only when known, the chunk clamped) and syncs.
    void setValues(const SettingsValues& values);

    void sync() { settings_.sync(); }

private:
    QSettings settings_;
};

} // namespace folio
