/** The fedtune operator. */
package io.fedtune.operator;
