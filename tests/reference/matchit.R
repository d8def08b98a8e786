# Writes MatchIt fixtures for tests/test_matching*.py:  Rscript tests/reference/matchit.R
# (run from the repository root; needs R >= 4.2 and MatchIt; optmatch is used if installed).
#
# Reads tests/reference/fixtures/lalonde.csv (MatchIt's lalonde, exported with row numbers and
# row names) and writes tests/reference/fixtures/matchit_*.csv, each starting with '#' comment
# lines giving the R and package versions and the call that made it.
#
# Debian's MatchIt 4.5.1 binary computes abs() of doubles with the integer abs in its
# nearest-neighbour C++ code (fixed upstream in 4.5.4, commit 4b5b2f8), so its nearest-neighbour
# pairs and calipers are wrong. Nearest-neighbour references therefore come from
# lalonde_matchit.json (a patched build); from this installation we only take what does not go
# through that code: the glm propensity score, balance before matching, subclassification, exact
# and coarsened exact matching. matchit_nearest_debian.csv records Debian's (wrong) 1:1 pairs so
# the tests can show where and why ours differ.
suppressPackageStartupMessages(library(MatchIt))
out_dir <- "tests/reference/fixtures"
d <- read.csv(file.path(out_dir, "lalonde.csv"), stringsAsFactors = FALSE)
d$race <- factor(d$race, levels = c("black", "hispan", "white"))
rownames(d) <- d$id
f <- treat ~ age + educ + race + married + nodegree + re74 + re75

header <- function(call) c(
  paste0("# ", R.version.string),
  paste0("# MatchIt ", packageVersion("MatchIt"), " (Debian binary; its nearest-neighbour code has the abs() bug)"),
  paste0("# optmatch ", if (requireNamespace("optmatch", quietly = TRUE)) as.character(packageVersion("optmatch")) else "not installed"),
  paste0("# call: ", call),
  paste0("# written ", format(Sys.time(), tz = "UTC", usetz = TRUE)))

write_fixture <- function(df, name, call) {
  path <- file.path(out_dir, paste0("matchit_", name, ".csv"))
  con <- file(path, "w")
  writeLines(header(call), con)
  write.csv(df, con, row.names = FALSE)
  close(con)
  cat("wrote", path, "\n")
}

bal_df <- function(tab) {
  keep <- c("Means Treated" = "mean_treated", "Means Control" = "mean_control",
            "Std. Mean Diff." = "smd", "Var. Ratio" = "var_ratio", "eCDF Mean" = "ecdf_mean",
            "eCDF Max" = "ecdf_max")
  cols <- intersect(names(keep), colnames(tab))
  out <- data.frame(covariate = rownames(tab), tab[, cols, drop = FALSE], check.names = FALSE)
  names(out) <- c("covariate", keep[cols])
  out
}

## propensity score model
gl <- glm(f, data = d, family = binomial())
s <- summary(gl)$coefficients
write_fixture(data.frame(term = rownames(s), estimate = s[, 1], se = s[, 2], z = s[, 3], p_value = s[, 4]),
              "ps", "summary(glm(treat ~ age + educ + race + married + nodegree + re74 + re75, binomial))")
ps <- fitted(gl)

## balance before matching (no nearest-neighbour code involved)
m0 <- matchit(f, data = d, method = NULL, distance = "glm")
write_fixture(bal_df(summary(m0)$sum.all), "balance_before",
              "summary(matchit(f, data = d, method = NULL, distance = 'glm'))$sum.all")

## subclassification, exact and coarsened exact matching: weights, subclasses, balance after
designs <- list(
  subclass_att = list(args = list(method = "subclass", subclass = 6, estimand = "ATT"),
                      call = "matchit(f, d, method = 'subclass', subclass = 6, estimand = 'ATT')"),
  subclass_ate = list(args = list(method = "subclass", subclass = 6, estimand = "ATE"),
                      call = "matchit(f, d, method = 'subclass', subclass = 6, estimand = 'ATE')"),
  exact_att    = list(args = list(formula = treat ~ race + married + nodegree, method = "exact"),
                      call = "matchit(treat ~ race + married + nodegree, d, method = 'exact')"),
  cem_att      = list(args = list(method = "cem", estimand = "ATT"),
                      call = "matchit(f, d, method = 'cem', estimand = 'ATT') (default cutpoints = 'sturges')")
)
for (nm in names(designs)) {
  a <- designs[[nm]]$args
  if (is.null(a$formula)) a$formula <- f
  m <- do.call(matchit, c(list(data = d), a))
  sub <- if (is.null(m$subclass)) NA_integer_ else as.integer(as.character(m$subclass))
  write_fixture(data.frame(row = d$row, weights = unname(m$weights), subclass = sub),
                paste0(nm, "_weights"), designs[[nm]]$call)
  sm <- summary(m, subclass = FALSE)
  tab <- if (!is.null(sm$sum.across)) sm$sum.across else sm$sum.matched
  write_fixture(bal_df(tab), paste0(nm, "_balance"), paste0("summary(", designs[[nm]]$call, ")"))
  nn <- sm$nn
  write_fixture(data.frame(row = rownames(nn), control = nn[, "Control"], treated = nn[, "Treated"]),
                paste0(nm, "_sizes"), paste0("summary(", designs[[nm]]$call, ")$nn"))
}

## Debian's nearest-neighbour 1:1 pairs, recorded only to document the bug
m <- matchit(f, data = d, method = "nearest", distance = "glm")
mm <- m$match.matrix
write_fixture(data.frame(treated_row = match(rownames(mm), d$id), control_row = match(mm[, 1], d$id)),
              "nearest_debian", "matchit(f, d, method = 'nearest') with Debian's MatchIt (known wrong)")

## optimal pair matching needs optmatch
if (requireNamespace("optmatch", quietly = TRUE)) {
  m <- matchit(f, data = d, method = "optimal", distance = "glm")
  mm <- m$match.matrix
  write_fixture(data.frame(treated_row = match(rownames(mm), d$id), control_row = match(mm[, 1], d$id)),
                "optimal", "matchit(f, d, method = 'optimal')")
} else {
  cat("optmatch is not installed: no optimal-matching fixture (tests check optimality against a dense solver)\n")
}
