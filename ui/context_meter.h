#pragma once
// The status bar's context meter: tokens in use against the model's capacity. Over capacity it
// warns in red; nothing is ever cut to fit.

#include <QWidget>

class QLabel;
class QProgressBar;

namespace folio {

class ContextMeter : public QWidget {
    Q_OBJECT
public:
    explicit ContextMeter(QWidget* parent = nullptr);

    void setCapacity(qint64 tokens);
    void setUsed(qint64 tokens);
    qint64 capacity() const { return capacity_; }
    qint64 used() const { return used_; }
    bool overCapacity() const { return capacity_ > 0 && used_ > capacity_; }
    QString text() const;

private:
    void refresh();

    QProgressBar* bar_;
    QLabel* label_;
    qint64 capacity_ = 0;
    qint64 used_ = 0;
};

} // namespace folio
