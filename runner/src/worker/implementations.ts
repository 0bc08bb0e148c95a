/**
 * Importing this registers every implemented part of the Lua API into the
 * default registry. Add the registration module of each new part here.
 */
import './framework/register.js';
import './vm/register.js';
