// Adversarial corpus, part 3: hostile arguments and results (see README.md in this folder).
import t from 'tap'
import { runCorpus } from './corpus.ts'
import { RESULT_CASES } from './results.cases.ts'

runCorpus(t, RESULT_CASES)
