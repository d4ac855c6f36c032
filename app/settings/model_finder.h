#pragma once
// Finds MiniCPM-SALA model folders: an explicit folder and the snapshots of the Hugging Face
// hub cache (models--*/snapshots/*/ whose config.json has model_type "minicpm_sala").

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

// The explicit folder first (when it is a SALA model), then hub snapshots, newest first.
// An empty hubDir means defaultHubDir().
QList<ModelCandidate> findModels(const QString& explicitFolder = QString(),
                                 const QString& hubDir = QString());

} // namespace folio
