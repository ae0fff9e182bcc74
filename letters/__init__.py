"""Letters of the office (invitation, visa support, thank you) from templates staff edit."""
