# Reference values for a Cox model with a categorical covariate (R's factor, treatment contrasts).
#
# Run from the repository root:   Rscript tests/reference/survival_factor.R
# Writes tests/reference/fixtures/survival_cox_factor.csv. pytest only reads it; the suite never
# calls R. The first line names R and package versions. Data: rossi.csv (see survival.R) with one
# derived string column, prio_grp = "none" (prio 0), "few" (1-3) or "many" (4 or more); R's factor()
# sorts the levels ("few", "many", "none"), so "few" is the reference, as in impact's covariate builder.

suppressPackageStartupMessages(library(survival))

fixdir <- file.path("tests", "reference", "fixtures")
header <- sprintf("# R %s, survival %s; written by tests/reference/survival_factor.R",
                  paste(R.version$major, R.version$minor, sep = "."),
                  as.character(packageVersion("survival")))
options(digits = 15)
rossi <- read.csv(file.path(fixdir, "rossi.csv"), comment.char = "#")
rossi$prio_grp <- ifelse(rossi$prio == 0, "none", ifelse(rossi$prio <= 3, "few", "many"))
rossi$prio_grp <- factor(rossi$prio_grp)
stopifnot(identical(levels(rossi$prio_grp), c("few", "many", "none")))

fits <- list(
  plain = coxph(Surv(week, arrest) ~ fin + age + prio_grp, data = rossi, ties = "efron"),
  weighted_cluster = coxph(Surv(week, arrest) ~ fin + age + prio_grp, data = rossi, ties = "efron",
                           weights = w, cluster = clus)
)
rows <- list()
for (name in names(fits)) {
  f <- fits[[name]]
  nv <- if (is.null(f$naive.var)) f$var else f$naive.var
  rows[[name]] <- data.frame(model = name, term = names(coef(f)), coef = unname(coef(f)),
                             se = sqrt(diag(f$var)), naive_se = sqrt(diag(nv)),
                             loglik = f$loglik[2])
}
out <- do.call(rbind, rows)
path <- file.path(fixdir, "survival_cox_factor.csv")
con <- file(path, "w")
writeLines(header, con)
close(con)
suppressWarnings(write.table(out, path, sep = ",", row.names = FALSE, append = TRUE, qmethod = "double",
                             col.names = TRUE))
