/** The fedtune API: custom resources and the trainer contract. */
package io.fedtune.api;
