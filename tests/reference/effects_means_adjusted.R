# Reference values for impact.estimate_effects(..., outcome=, adjust=) (regression-adjusted mean
# differences) on Lalonde.
#
# Run from the repository root:   Rscript tests/reference/effects_means_adjusted.R
# Reads  tests/reference/fixtures/effects_means_matched.csv (the MatchIt 4.5.1 matched samples written
#        by tests/reference/effects_means.R: nearest 1:1, ratio2 2:1, replace 1:1 with replacement,
#        and ipw; the caliper sample is left out: among its unmarried the treated include no
#        hispanic participant, so treat:hispan_c is not estimable, NA in lm, a named error in impact)
#        and tests/reference/fixtures/lalonde.csv (the covariates, by row)
# Writes tests/reference/fixtures/effects_means_adjusted.csv (estimates and SEs).
#
# In each subgroup (all, and each level of married) the fit is
#   lm(re78 ~ treat * (age_c + educ_c + hispan_c + white_c + married_c + nodegree_c + re74_c + re75_c),
#      weights = weights)
# with every covariate (race as dummies for hispan and white, black the reference) centred at its
# weighted mean among the TREATED of that subgroup, so the coefficient of treat is the ATT by
# g-computation (Lin 2013; MatchIt's vignette "Estimating Effects After Matching"). married is
# constant within the married subgroups and is left out there. mean_diff = coef of treat,
# mean_control = intercept, mean_treated = intercept + treat. SE: vcovCL(cluster = ~subclass,
# type = "HC1") (nearest, caliper, ratio2), vcovHC(type = "HC3") (replace), vcovHC(type = "HC1") (ipw).
# The married "0 - 1" difference comes from the stacked model: lm(re78 ~ 0 + M, weights) where M has,
# for each level L, the columns 1[L], 1[L] treat, 1[L] Z_L and 1[L] treat Z_L (Z_L centred at the
# treated of level L), with the same vcov.

suppressPackageStartupMessages({library(sandwich)})
fixdir <- file.path("tests", "reference", "fixtures")
d <- read.csv(file.path(fixdir, "lalonde.csv"))
m_all <- read.csv(file.path(fixdir, "effects_means_matched.csv"), comment.char = "#")
m_all <- merge(m_all[, c("design", "row", "treat", "re78", "weights", "subclass")],
               d[, c("row", "age", "educ", "race", "married", "nodegree", "re74", "re75")], by = "row", sort = FALSE)
m_all$hispan <- as.numeric(m_all$race == "hispan")
m_all$white <- as.numeric(m_all$race == "white")
covs <- c("age", "educ", "hispan", "white", "married", "nodegree", "re74", "re75")

vc <- function(fit, design, cl) {
  if (design == "replace") vcovHC(fit, type = "HC3")
  else if (design == "ipw") vcovHC(fit, type = "HC1")
  else vcovCL(fit, cluster = cl, type = "HC1", cadjust = TRUE)
}
centred <- function(sub, vars) {
  tr <- sub$treat == 1
  Z <- sapply(vars, function(v) sub[[v]] - weighted.mean(sub[[v]][tr], sub$weights[tr]))
  colnames(Z) <- paste0(vars, "_c")
  Z
}
out <- list()
add <- function(...) out[[length(out) + 1]] <<- data.frame(...)
for (name in c("nearest", "ratio2", "replace", "ipw")) {
  m <- m_all[m_all$design == name & m_all$weights > 0, ]
  m <- m[order(m$row), ]
  one <- function(sub, label, vars) {
    Z <- centred(sub, vars)
    dat <- data.frame(re78 = sub$re78, treat = sub$treat, weights = sub$weights, Z)
    fml <- as.formula(paste("re78 ~ treat * (", paste(colnames(Z), collapse = " + "), ")"))
    fit <- lm(fml, data = dat, weights = weights)
    if (anyNA(coef(fit))) stop(name, " ", label, ": ", paste(names(coef(fit))[is.na(coef(fit))], collapse = " "))
    V <- vc(fit, name, sub$subclass); b <- coef(fit)
    add(design = name, subgroup = label, estimand = "mean_treated", estimate = b[[1]] + b[[2]],
        se = sqrt(V[1, 1] + V[2, 2] + 2 * V[1, 2]))
    add(design = name, subgroup = label, estimand = "mean_control", estimate = b[[1]], se = sqrt(V[1, 1]))
    add(design = name, subgroup = label, estimand = "mean_diff", estimate = b[["treat"]],
        se = sqrt(V["treat", "treat"]))
  }
  one(m, "all", covs)
  lev_vars <- setdiff(covs, "married")
  for (lev in c(0, 1)) one(m[m$married == lev, ], as.character(lev), lev_vars)
  # stacked (interacted) model for the 0 - 1 difference
  blocks <- list(); idx <- c()
  for (lev in c(0, 1)) {
    I <- as.numeric(m$married == lev)
    Z <- centred(m[m$married == lev, ], lev_vars)
    Zf <- matrix(0, nrow(m), ncol(Z)); Zf[m$married == lev, ] <- Z
    B <- cbind(I, I * m$treat, Zf, Zf * m$treat)
    colnames(B) <- paste0("L", lev, "_", c("int", "treat", colnames(Z), paste0("treat:", colnames(Z))))
    blocks[[length(blocks) + 1]] <- B
  }
  M <- do.call(cbind, blocks)
  fit <- lm(m$re78 ~ 0 + M, weights = m$weights)
  stopifnot(!anyNA(coef(fit)))
  V <- vc(fit, name, m$subclass); b <- coef(fit)
  cvec <- setNames(rep(0, length(b)), names(b)); cvec["ML0_treat"] <- 1; cvec["ML1_treat"] <- -1
  add(design = name, subgroup = "0 - 1", estimand = "mean_diff", estimate = sum(cvec * b),
      se = sqrt(drop(t(cvec) %*% V %*% cvec)))
}
res <- do.call(rbind, out)
header <- sprintf("# R %s.%s, sandwich %s; written by tests/reference/effects_means_adjusted.R",
                  R.version$major, R.version$minor, packageVersion("sandwich"))
path <- file.path(fixdir, "effects_means_adjusted.csv")
writeLines(header, path)
suppressWarnings(write.table(format(res, digits = 15), path, sep = ",", row.names = FALSE, append = TRUE,
                             quote = FALSE))
