#pragma once
// Finds MiniCPM-SALA model folders: an explicit folder, the snapshots of the Hugging Face hub
// cache (models--*/snapshots/*/ whose config.json has model_type "minicpm_sala"), and as a last
// resort Folio's bundled demo model.

#include <QList>
#include <QString>

namespace folio {

struct ModelCandidate {
    QString dir;
    QString name;          // "openbmb/MiniCPM-SALA" for hub snapshots, the folder name otherwise
    QString source;        // "explicit" or "huggingface"
    bool complete = false; // has the tokenizer and at least one .safetensors file
    QString problem;       // why it is not complete; empty when complete
};

// $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub.
QString defaultHubDir();

// True when `dir` holds a config.json with model_type "minicpm_sala"; `why` says why not.
bool isSalaModelFolder(const QString& dir, QString* why = nullptr);

// Empty when `dir` is a SALA model folder with its tokenizer and weights, else a sentence for
// the user saying what is wrong.
QString modelFolderProblem(const QString& dir);

// True when config.json marks the folder as Folio's demo model ("folio_demo": true).
bool isDemoModelFolder(const QString& dir);

// The explicit folder first (when it is a SALA model), then hub snapshots, newest first.
// An empty hubDir means defaultHubDir().
QList<ModelCandidate> findModels(const QString& explicitFolder = QString(),
                                 const QString& hubDir = QString());

struct ModelChoice {
    QString dir;     // empty: nothing to load
    QString source;  // "settings", "huggingface" or "demo"
    QString problem; // why nothing (or the configured folder) can be loaded; empty when it can
    bool demo = false;
};

// The model the app loads: the configured folder when there is one (even a broken one, so its
// problem is shown rather than hidden behind another model); else the newest complete snapshot in
// the hub cache; else the first loadable folder of `demoDirs` (demoModelSearchPath() of
// bundled_resources.h).
ModelChoice chooseModel(const QString& configured, const QStringList& demoDirs,
                        const QString& hubDir = QString());

} // namespace folio
