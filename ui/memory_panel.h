#pragma once
// Memory readouts of the engine: two stacked bars of what the memory holds now (by kind: weights,
// KV cache, compressed keys, linear state, checkpoints, workspace; and by resident document) and a
// stacked chart of the kinds over time. On the CPU backend it shows the process memory and says so.

#include "engine_worker.h"

#include <QElapsedTimer>
#include <QHash>
#include <QWidget>

class QLabel;
class QBarSet;
class QChart;
class QHorizontalStackedBarSeries;
class QLineSeries;
class QValueAxis;

namespace folio {

class MemoryPanel : public QWidget {
    Q_OBJECT
public:
    explicit MemoryPanel(QWidget* parent = nullptr);

    // How a resident context is named in the legend ("doc:3" -> the document's title).
    void setContextTitle(const QString& key, const QString& title);

    bool cpuBannerShown() const;
    QString summary() const;
    // The "by kind" bar's value of a category ("Weights", "KV cache", …, "Free"), in MiB; -1 if
    // there is no such category.
    double categoryMiB(const QString& name) const;
    // The "by document" bar's value of a resident context, in MiB; -1 when it is not shown.
    double contextMiB(const QString& key) const;
    QStringList contextLegend() const; // the names of the contexts shown, in bar order
    QString legendText() const;        // the key under the bars, with sizes, as plain text
    int historySize() const;
    // The top of `category`'s band at the latest point of the chart over time, in MiB.
    double historyTopMiB(const QString& category) const;

public slots:
    void update(const folio::MemoryReadout& readout);

private:
    void buildBars();
    void buildHistory();
    void showContexts(const QMap<QString, quint64>& perDocument, quint64 used, quint64 weights);
    void appendHistory(const QList<quint64>& kinds, quint64 used);
    void updateLegend();

    QLabel* banner_;
    QLabel* summary_;
    QLabel* legend_; // the chart's own legend drops the names when the panel is narrow
    QChart* barChart_;
    QHorizontalStackedBarSeries* bars_;
    QValueAxis* barAxis_;
    QList<QBarSet*> kindSets_; // the engine's categories, then Other and Free
    QHash<QString, QBarSet*> contextSets_;
    QHash<QString, QString> contextTitles_;
    QChart* historyChart_;
    QList<QLineSeries*> bandTops_; // cumulative tops of the stacked bands, one per kind
    QValueAxis* timeAxis_;
    QValueAxis* memoryAxis_;
    QElapsedTimer clock_;
    double peakMiB_ = 0;
};

QString formatBytes(quint64 bytes);

} // namespace folio
