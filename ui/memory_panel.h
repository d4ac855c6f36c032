#pragma once
// Memory readouts of the engine: a stacked bar of what the memory holds now and a chart of the
// used memory over time. On the CPU backend it shows the process memory and says so.

#include "engine_worker.h"

#include <QElapsedTimer>
#include <QWidget>

class QLabel;
class QBarSet;
class QChart;
class QLineSeries;
class QValueAxis;

namespace folio {

class MemoryPanel : public QWidget {
    Q_OBJECT
public:
    explicit MemoryPanel(QWidget* parent = nullptr);

    bool cpuBannerShown() const;
    QString summary() const;
    // The bar's value of a category ("Weights", "KV cache", …, "Free"), in MiB.
    double categoryMiB(const QString& name) const;
    int historySize() const;
    QString perDocumentText() const;

public slots:
    void update(const folio::MemoryReadout& readout);

private:
    QLabel* banner_;
    QLabel* summary_;
    QLabel* perDocument_;
    QChart* barChart_;
    QValueAxis* barAxis_;
    QList<QBarSet*> sets_;
    QChart* lineChart_;
    QLineSeries* usedSeries_;
    QValueAxis* timeAxis_;
    QValueAxis* memoryAxis_;
    QElapsedTimer clock_;
    double peakMiB_ = 0;
};

QString formatBytes(quint64 bytes);

} // namespace folio
