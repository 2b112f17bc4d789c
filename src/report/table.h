#pragma once
// A report table and its renderings: Markdown, CSV, LaTeX (booktabs) and HTML.
// Ranked columns mark the best value bold and the second underlined, as the
// paper's tables do (Markdown: bold only; CSV: plain).
#include <string>
#include <vector>

namespace clickprompt::report {

struct Table {
  std::string title, note;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  // Columns whose cells start with a number ("0.81234 ± 0.00030") to rank:
  // +1 higher is better, -1 lower is better, 0 not ranked. Empty: none.
  std::vector<int> rank;
  std::vector<size_t> reference_rows;  // shown, never ranked (the Bayes-optimal row)

  std::string markdown() const;
  std::string csv() const;
  std::string latex() const;
  std::string html() const;
  // Per cell: 1 best of its column, 2 second, 0 neither.
  std::vector<std::vector<int>> marks() const;
};

// Text escaped for HTML and for LaTeX.
std::string html_escape(const std::string& s);
std::string latex_escape(const std::string& s);

}  // namespace clickprompt::report
