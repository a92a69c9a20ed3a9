-- The three public Cloudgene services (cloudgene-api reference, section 1).  They are
-- seeded once: a user who removes one keeps it removed.  Sample limits are the
-- operators' published values (MIS: 5 minimum since 2024; TIS: 20 to 25,000 samples,
-- 3 running jobs; AfriGen-D: 110,000 samples and 2 GB per file, from its own docs).
INSERT INTO services (name, protocol, url, app, description, location, enabled, builtin,
                      min_samples, max_samples, max_upload_mb, max_concurrent_jobs, builds,
                      created_at, updated_at)
VALUES
  ('michigan', 'cloudgene', 'https://imputationserver.sph.umich.edu', 'imputationserver2',
   'Michigan Imputation Server 2', 'University of Michigan, USA', TRUE, TRUE,
   5, 110000, NULL, 2, ['hg19', 'hg38'],
   now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'),
  ('topmed', 'cloudgene', 'https://imputation.biodatacatalyst.nhlbi.nih.gov', 'imputationserver2',
   'TOPMed Imputation Server', 'NHLBI BioData Catalyst, USA', TRUE, TRUE,
   20, 25000, NULL, 3, ['hg19', 'hg38'],
   now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'),
  ('h3africa', 'cloudgene', 'https://impute.afrigen-d.org', 'imputationserver2',
   'H3Africa / AfriGen-D Imputation Service', 'Cape Town, South Africa (ilifu)', TRUE, TRUE,
   20, 110000, 2048, 2, ['hg19', 'hg38'],
   now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC');
