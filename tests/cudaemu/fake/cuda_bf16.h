/* (tests/cudaemu) the emulation has no device code: nothing to declare */
