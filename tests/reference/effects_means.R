# Reference values for impact.estimate_effects(..., outcome=) (mean differences) on Lalonde.
#
# Run from the repository root:   Rscript tests/reference/effects_means.R
# Reads  tests/reference/fixtures/lalonde.csv (MatchIt's lalonde, 614 rows)
# Writes tests/reference/fixtures/effects_means_matched.csv (the matched rows, weights and subclass
#        of each design, so Python estimates on exactly the same sample; this sidesteps any
#        difference between MatchIt's and impact's nearest-neighbour matching)
#    and tests/reference/fixtures/effects_means_reference.csv (estimates and SEs).
#
# Designs (MatchIt 4.5.1, propensity score by logistic regression on the covariates below):
#   nearest  1:1 nearest neighbour without replacement          SE vcovCL(cluster = subclass), HC1
#   caliper  1:1 nearest pairs within 0.2 SD of the score         SE vcovCL(cluster = subclass), HC1
#   ratio2   2:1 nearest                                          SE vcovCL(cluster = subclass), HC1
#   replace  1:1 nearest with replacement                         SE vcovHC(type = "HC3") (MatchIt's
#            vignette: with replacement, pair membership is not unique; use robust HC3 errors)
#   ipw      ATT weights 1 (treated), ps/(1-ps) (controls)       SE vcovHC(type = "HC1")
# For each design: lm(re78 ~ treat, weights = weights) on all rows and on each level of married
# and of race (mean_control = intercept, mean_treated = intercept + slope, mean_diff = slope);
# the married "0 - 1" difference and the joint Wald test that the race effects are equal come from
# the interacted model lm(re78 ~ 0 + lev + lev:treat, weights = weights) with the same vcov.

suppressPackageStartupMessages({library(MatchIt); library(sandwich)})
fixdir <- file.path("tests", "reference", "fixtures")
d <- read.csv(file.path(fixdir, "lalonde.csv"))
f <- treat ~ age + educ + race + married + nodegree + re74 + re75

designs <- list()
add_design <- function(name, md) {
  sub <- if ("subclass" %in% names(md)) as.character(md$subclass) else rep(NA, nrow(md))
  designs[[name]] <<- data.frame(design = name, row = md$row, treat = md$treat, re78 = md$re78,
                                 married = md$married, race = md$race, weights = md$weights,
                                 subclass = sub)
}
add_design("nearest", match.data(matchit(f, data = d, method = "nearest")))
# Debian's MatchIt 4.5.1 lets every pair through its caliper (the nearest-neighbour bug), so the
# caliper design is made by hand: the 1:1 nearest pairs whose score difference is at most 0.2 SD
# of the score (MatchIt's definition); the sets with a wider pair are dropped whole.
mn <- match.data(matchit(f, data = d, method = "nearest"))
gap <- tapply(mn$distance, mn$subclass, function(x) abs(diff(range(x))))
keep <- names(gap)[gap <= 0.2 * sd(fitted(glm(f, data = d, family = binomial())))]
add_design("caliper", mn[as.character(mn$subclass) %in% keep, ])
add_design("ratio2", match.data(matchit(f, data = d, method = "nearest", ratio = 2)))
add_design("replace", match.data(matchit(f, data = d, method = "nearest", replace = TRUE)))
ps <- fitted(glm(f, data = d, family = binomial()))
dw <- d; dw$weights <- ifelse(d$treat == 1, 1, ps / (1 - ps))
add_design("ipw", dw)

vc <- function(fit, design, cl) {
  if (design == "replace") vcovHC(fit, type = "HC3")
  else if (design == "ipw") vcovHC(fit, type = "HC1")
  else vcovCL(fit, cluster = cl, type = "HC1", cadjust = TRUE)
}
out <- list()
add <- function(...) out[[length(out) + 1]] <<- data.frame(...)
for (name in names(designs)) {
  m <- designs[[name]]
  one <- function(sub, label) {
    fit <- lm(re78 ~ treat, data = sub, weights = weights)
    V <- vc(fit, name, sub$subclass); b <- coef(fit)
    add(design = name, subgroup = label, estimand = "mean_treated", estimate = b[[1]] + b[[2]],
        se = sqrt(V[1, 1] + V[2, 2] + 2 * V[1, 2]))
    add(design = name, subgroup = label, estimand = "mean_control", estimate = b[[1]], se = sqrt(V[1, 1]))
    add(design = name, subgroup = label, estimand = "mean_diff", estimate = b[[2]], se = sqrt(V[2, 2]))
  }
  one(m, "all")
  for (lev in sort(unique(m$married))) one(m[m$married == lev, ], as.character(lev))
  for (lev in sort(unique(m$race))) one(m[m$race == lev, ], lev)
  m$lev <- factor(m$married)
  fit <- lm(re78 ~ 0 + lev + lev:treat, data = m, weights = weights)
  V <- vc(fit, name, m$subclass); b <- coef(fit)
  cvec <- setNames(rep(0, length(b)), names(b)); cvec["lev0:treat"] <- 1; cvec["lev1:treat"] <- -1
  add(design = name, subgroup = "0 - 1", estimand = "mean_diff", estimate = sum(cvec * b),
      se = sqrt(drop(t(cvec) %*% V %*% cvec)))
  m$lev <- factor(m$race)
  fit <- lm(re78 ~ 0 + lev + lev:treat, data = m, weights = weights)
  V <- vc(fit, name, m$subclass); b <- coef(fit)
  idx <- match(c("levblack:treat", "levhispan:treat", "levwhite:treat"), names(b))
  C <- matrix(0, 2, length(b)); C[1, idx[1]] <- 1; C[1, idx[2]] <- -1; C[2, idx[1]] <- 1; C[2, idx[3]] <- -1
  dd <- C %*% b
  stat <- drop(t(dd) %*% solve(C %*% V %*% t(C)) %*% dd)
  add(design = name, subgroup = "race", estimand = "wald_chi2", estimate = stat, se = NA)
  add(design = name, subgroup = "race", estimand = "wald_p", estimate = pchisq(stat, 2, lower.tail = FALSE), se = NA)
}
res <- do.call(rbind, out)
header <- sprintf("# R %s.%s, MatchIt %s, sandwich %s; written by tests/reference/effects_means.R",
                  R.version$major, R.version$minor, packageVersion("MatchIt"), packageVersion("sandwich"))
path <- file.path(fixdir, "effects_means_reference.csv")
writeLines(header, path)
suppressWarnings(write.table(format(res, digits = 15), path, sep = ",", row.names = FALSE, append = TRUE,
                             quote = FALSE))
path <- file.path(fixdir, "effects_means_matched.csv")
writeLines(header, path)
suppressWarnings(write.table(do.call(rbind, designs), path, sep = ",", row.names = FALSE, append = TRUE,
                             quote = FALSE, na = "", col.names = TRUE))

# ---- Rosenbaum bounds for a binary outcome (impact.sensitivity), by direct binomial / convolution ----
# Pairs: upper bound = P(Binomial(D, Gamma / (1 + Gamma)) >= T) (Rosenbaum 2002, sec. 4.3), for
# Hammond's smoking pairs (110 discordant with the smoker dead of lung cancer, 12 with the
# non-smoker; the rbounds::binarysens(12, 110) example) and a small table (T = 7 of D = 9).
# 1:k sets: upper bound = tail of the sum of independent Bernoulli(Gamma c / (Gamma c + n - c)),
# by an explicit convolution, for the sets (n, c, treated had it) listed in `sets` below.
gam <- c(1, 1.5, 2, 3, 4, 5, 6)
rb <- list()
for (g in gam) {
  p <- g / (1 + g)
  rb[[length(rb) + 1]] <- data.frame(case = "hammond", gamma = g,
                                     p_upper = pbinom(110 - 1, 122, p, lower.tail = FALSE),
                                     p_lower = pbinom(110 - 1, 122, 1 / (1 + g), lower.tail = FALSE))
  rb[[length(rb) + 1]] <- data.frame(case = "small", gamma = g,
                                     p_upper = pbinom(7 - 1, 9, p, lower.tail = FALSE),
                                     p_lower = pbinom(7 - 1, 9, 1 / (1 + g), lower.tail = FALSE))
}
# 1:2 and 1:3 sets: size n, number with the outcome c, whether the participant had it
sets <- data.frame(n = c(3, 3, 3, 3, 4, 4, 4, 3, 3, 4, 3, 4),
                   c = c(1, 2, 1, 2, 1, 2, 3, 1, 1, 2, 2, 1),
                   t = c(1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0))
conv_tail <- function(p, k) {
  dist <- 1
  for (q in p) dist <- c(dist * (1 - q), 0) + c(0, dist * q)
  sum(dist[(k + 1):length(dist)])
}
for (g in gam) {
  rb[[length(rb) + 1]] <- data.frame(case = "sets", gamma = g,
                                     p_upper = conv_tail(g * sets$c / (g * sets$c + sets$n - sets$c), sum(sets$t)),
                                     p_lower = conv_tail(sets$c / (sets$c + g * (sets$n - sets$c)), sum(sets$t)))
}
path <- file.path(fixdir, "sensitivity_rosenbaum.csv")
writeLines(sprintf("# R %s.%s (stats::pbinom and a direct convolution); written by tests/reference/effects_means.R",
                   R.version$major, R.version$minor), path)
suppressWarnings(write.table(format(do.call(rbind, rb), digits = 15), path, sep = ",", row.names = FALSE,
                             append = TRUE, quote = FALSE))
